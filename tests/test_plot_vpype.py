"""vpype round trip: our plot SVG reads back without losing dots; the plugin command runs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from stipplr.dots import Stipple
from stipplr.plotter import PlotOptions, make_plot, write_plot

vp = pytest.importorskip("vpype")
vpype_cli = pytest.importorskip("vpype_cli")


def stipple(n: int = 500) -> Stipple:
    rng = np.random.default_rng(5)
    return Stipple(rng.random((n, 2)), rng.random((n, 3)), 50, 70, radius=rng.random(n))


@pytest.mark.parametrize("dot", ["touch", "auto"])
def test_vpype_reads_every_dot_of_our_svg(tmp_path, dot):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plot = make_plot(stipple(200), PlotOptions(pens="black,red,blue", dot=dot))
    path = write_plot(plot, tmp_path / "plot.svg")
    document = vp.read_multilayer_svg(str(path), quantization=0.05)
    counts = {lid: len(layer) for lid, layer in document.layers.items()}
    expected = {i + 1: len(layer.paths) for i, layer in enumerate(plot.document.layers)}
    assert counts == {k: v for k, v in expected.items() if v}
    assert sum(counts.values()) == 200
    mm = 96 / 25.4
    assert document.page_size == pytest.approx((210 * mm, 297 * mm))


def test_plugin_command_adds_one_layer_per_pen(tmp_path):
    path = tmp_path / "dots.npz"
    stipple(300).save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        document = vpype_cli.execute(f"stipplr --pens black,red --paper a5 {path}")
    assert sum(len(layer) for layer in document.layers.values()) == 300
    names = [layer.property(vp.METADATA_FIELD_NAME) for layer in document.layers.values()]
    assert names == ["red", "black"]  # light inks first
