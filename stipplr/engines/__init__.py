"""The engine table: every stippling engine, classical or neural, behind one calling convention.

An engine entry names a function ``f(darkness, n, *, seed=None, **options)`` taking a float
(H, W) darkness map in [0, 1] and returning exactly ``n`` dot centres relative to the image
(an (n, 2) array, x and y in [0, 1], y down; fewer only when the darkness is too sparse to
hold ``n``, see :mod:`stipplr.engines.dither`) or an :class:`EngineResult` that also carries
dot colours and meta. An engine that needs the photo's colours takes ``rgb``; one that
reports progress takes ``progress(done, total)``; one that runs equal-size images together
(the neural engine: one network batch) names a ``batch`` function taking lists; one that
can stipple several pens' ink maps *coupled* (each pen evenly spread, and all pens
together) names a ``classes`` function ``g(densities, counts, *, seed=None, **options)``
returning one (counts[p], 2) array per map. Entries are imported only when used, so
listing engines never imports torch.

    from stipplr.engines import run_engine
    dots = run_engine("lbg", darkness, 5000, seed=1).xy
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stipplr.errors import OptionError

MAX_POINTS = 2_000_000
"""The most dots any engine is asked for (memory is bounded by it)."""
CALL_ARGUMENTS = frozenset(
    {"darkness", "darks", "densities", "counts", "n", "seed", "rgb", "rgbs", "progress"}
)
"""Parameters of the calling convention itself, not options."""

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called by slow engines as they work (e.g. once per iteration)."""


@dataclass(frozen=True)
class EngineResult:
    """What an engine returns: dot centres, their colours (None: the API samples the photo)
    and meta to keep in the stipple (e.g. the model that placed the dots)."""

    xy: np.ndarray
    rgb: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Hints:
    """How the batch runner should drive an engine (see :meth:`Engine.hints`)."""

    batch_size: int = 1
    threads: int = 1
    processes: bool = True


@dataclass(frozen=True)
class Engine:
    """One entry of the engine table.

    target: ``module:function`` with the calling convention above; batch: the same for
    lists of equal-size images, or None; n_range: the dot counts it takes; check: a
    ``module:function(n, options)`` that refuses what the engine cannot do before any work
    (the neural engine loads its model there); hints: ``module:function(options) -> Hints``;
    classes: ``module:function`` of its coupled multi-class mode, or None.
    """

    name: str
    summary: str
    target: str
    batch: str | None = None
    n_range: tuple[int, int] = (1, MAX_POINTS)
    check: str | None = None
    hints_target: str | None = None
    classes: str | None = None

    def function(self) -> Callable[..., Any]:
        """The engine's function (imported on first use)."""
        return _load(self.target)

    def options(self) -> dict[str, Any]:
        """The options this engine takes, with their defaults (for help, presets, errors);
        the neural engine's model may take more (its ``check`` validates those)."""
        return _keyword_options(self.function())

    def class_options(self) -> dict[str, Any]:
        """The options of the coupled multi-class mode (empty when there is none)."""
        return _keyword_options(_load(self.classes)) if self.classes else {}

    def validate(self, n: int, options: dict[str, Any], coupled: bool = False) -> None:
        """Refuse an unknown option or a dot count outside ``n_range``, in one line;
        ``coupled``: the options of the multi-class mode, which the engine must have."""
        if coupled and not self.classes:
            can = [e.name for e in ENGINES.values() if e.classes]
            raise OptionError(
                f"engine {self.name!r} has no coupled multi-pen mode (use --mix independent, "
                f"or --engine {'|'.join(can)})"
            )
        accepted = self.class_options() if coupled else self.options()
        unknown = sorted(set(options) - set(accepted))
        if unknown and not self.check:  # an engine with a check (a model) checks its own
            known = ", ".join(sorted(accepted)) or "none"
            raise OptionError(
                f"engine {self.name!r} has no option(s) {', '.join(unknown)} (it has: {known})"
            )
        low, high = self.n_range
        if not low <= n <= high:
            others = [e.name for e in ENGINES.values() if e.n_range[0] <= n <= e.n_range[1]]
            raise OptionError(
                f"engine {self.name!r} places {low} to {high} dots, not {n}"
                + (f" (--engine {'|'.join(others)} can)" if others else "")
            )
        if self.check:
            _load(self.check)(n, options)

    def hints(self, options: dict[str, Any]) -> Hints:
        """How to run this engine over many images (network batch, threads, processes)."""
        return _load(self.hints_target)(options) if self.hints_target else Hints()

    def run(
        self,
        darkness: np.ndarray,
        n: int,
        *,
        rgb: np.ndarray | None = None,
        seed: int | None = None,
        progress: Progress | None = None,
        **options: Any,
    ) -> EngineResult:
        """Run the engine on one image (options already validated by :meth:`validate`)."""
        call = _call_arguments(self.function(), rgb=rgb, progress=progress)
        return _as_result(self.function()(darkness, n, seed=seed, **call, **options))

    def run_batch(
        self,
        darks: Sequence[np.ndarray],
        n: int,
        *,
        rgbs: Sequence[np.ndarray],
        seed: int | None = None,
        progress: Progress | None = None,
        **options: Any,
    ) -> list[EngineResult]:
        """Run on equal-size images together when the engine can, else one by one."""
        if self.batch is None or len(darks) < 2:
            return [
                self.run(dark, n, rgb=rgb, seed=seed, progress=progress, **options)
                for dark, rgb in zip(darks, rgbs, strict=True)
            ]
        batch = _load(self.batch)
        call = _call_arguments(batch, rgb=None, progress=progress)
        return [_as_result(r) for r in batch(darks, n, seed=seed, rgbs=rgbs, **call, **options)]

    def run_classes(
        self,
        densities: Sequence[np.ndarray],
        counts: Sequence[int],
        *,
        coupled: bool,
        seed: int | None = None,
        progress: Progress | None = None,
        **options: Any,
    ) -> list[np.ndarray]:
        """One dot array per density map (``counts[p]`` dots each): the coupled mode, or
        each map on its own (a different seed per map, so equal maps get different dots)."""
        if coupled:
            classes = _load(self.classes)
            call = _call_arguments(classes, progress=progress)
            return [
                np.asarray(xy) for xy in classes(densities, counts, seed=seed, **call, **options)
            ]
        out = []
        for index, (density, count) in enumerate(zip(densities, counts, strict=True)):
            if count == 0 or float(np.max(density)) <= 0.0:
                out.append(np.zeros((0, 2)))
                continue
            report = None if progress is None else _share(progress, index, len(counts))
            own_seed = int(np.random.SeedSequence([seed or 0, index]).generate_state(1)[0])
            out.append(self.run(density, count, seed=own_seed, progress=report, **options).xy)
        return out


def _share(progress: Progress, index: int, parts: int) -> Progress:
    """``progress`` for part ``index`` of ``parts`` equal runs."""
    return lambda done, total: progress(index * total + done, parts * total)


def _keyword_options(function: Callable[..., Any]) -> dict[str, Any]:
    """The keyword-only parameters of an engine function that are options, with defaults."""
    params = inspect.signature(function).parameters.values()
    return {
        p.name: p.default
        for p in params
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in CALL_ARGUMENTS
    }


def _load(target: str) -> Callable[..., Any]:
    """Import the ``module:attribute`` an entry names."""
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def _call_arguments(function: Callable[..., Any], **values: Any) -> dict[str, Any]:
    """The convention's optional arguments (rgb, progress) that ``function`` accepts."""
    accepted = inspect.signature(function).parameters
    return {k: v for k, v in values.items() if k in accepted}


def _as_result(out: np.ndarray | EngineResult) -> EngineResult:
    """An engine's return value as an :class:`EngineResult`."""
    return out if isinstance(out, EngineResult) else EngineResult(np.asarray(out))


ENGINES: dict[str, Engine] = {}
"""The engine table, by name (see :func:`register`)."""


def register(engine: Engine) -> Engine:
    """Add ``engine`` to the table (a plug-in or a test may add its own)."""
    ENGINES[engine.name] = engine
    return engine


for _entry in (
    Engine(
        "dither",
        "blue-noise ordered dither (millisecond baseline)",
        "stipplr.engines.dither:dither",
    ),
    Engine(
        "voronoi", "weighted Voronoi stippling (Secord 2002)", "stipplr.engines.voronoi:voronoi"
    ),
    Engine("lbg", "Linde-Buzo-Gray stippling (Deussen 2017)", "stipplr.engines.lbg:lbg"),
    Engine(
        "ccvt",
        "capacity-constrained power diagrams (Balzer 2009, de Goes 2012): best quality",
        "stipplr.engines.ccvt:ccvt",
        classes="stipplr.engines.multiclass:ccvt_classes",
    ),
    Engine(
        "neural",
        "the trained network (--model): one pass, colours included",
        "stipplr.neural:run",
        batch="stipplr.neural:run_batch",
        check="stipplr.neural:check",
        hints_target="stipplr.neural:hints",
    ),
):
    register(_entry)


def engine_names() -> list[str]:
    """Names of every engine in the table."""
    return list(ENGINES)


def get_engine(name: str) -> Engine:
    """The engine called ``name`` (one-line error when unknown)."""
    try:
        return ENGINES[name]
    except KeyError:
        raise OptionError(
            f"unknown engine {name!r} (choose from {', '.join(engine_names())})"
        ) from None


def run_engine(name: str, darkness: np.ndarray, n: int, **arguments: Any) -> EngineResult:
    """Validate and run engine ``name`` on one image (the public engine API): ``arguments``
    are :meth:`Engine.run`'s (``rgb``, ``seed``, ``progress``) and the engine's options."""
    engine = get_engine(name)
    engine.validate(n, {k: v for k, v in arguments.items() if k not in CALL_ARGUMENTS})
    return engine.run(darkness, n, **arguments)
