"""Generate the shipped void-and-cluster threshold map: ``python scripts/make_bluenoise.py``.

Deterministic (fixed seed); writes stipplr/data/bluenoise<SIZE>.npy as uint16 ranks.
"""

from __future__ import annotations

import argparse

import numpy as np

from stipplr import bluenoise
from stipplr.atomic import atomic_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=bluenoise.DEFAULT_SIZE)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    ranks = bluenoise.generate(args.size, seed=args.seed)
    path = bluenoise.map_path(args.size)
    with atomic_path(path) as tmp:
        np.save(tmp, ranks.astype(np.uint16))
    print(f"wrote {path} ({args.size}x{args.size})")


if __name__ == "__main__":
    main()
