"""Option objects and the validation module: one error form, values parsed once, flags and
vpype options generated from the objects, one page fit, one extension table, one TOML."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
import typer

from stipplr import presets, renderers
from stipplr.cli import app
from stipplr.dots import Stipple
from stipplr.errors import OptionError
from stipplr.optionset import flag_specs
from stipplr.paper import fit
from stipplr.plotter import FORMATS, PlotOptions, make_plot
from stipplr.renderers.style import DotStyle, page_layout
from stipplr.renderers.svg import SvgOptions, build_svg
from stipplr.settings import StippleOptions
from stipplr.tomlfile import parse_toml_value, read_toml
from stipplr.tone import Tone
from stipplr.validate import Choice, Flag, Number, Whole, radius_range

ONE_FORM = re.compile(r"^[\w.\[\] ]+ must [^\n]+, got [^\n]+$")


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: Number(0, above=True)(0, "x"), "x"),
        (lambda: Number()("abc", "x"), "x"),
        (lambda: Whole(1, 9)(10, "n"), "n"),
        (lambda: Flag()("yes", "f"), "f"),
        (lambda: Choice(("a", "b"))("c", "c"), "c"),
        (lambda: radius_range((2, 1)), "radius"),
        (lambda: Tone(brightness=3), "tone.brightness"),
        (lambda: StippleOptions(points=0), "stipple.points"),
        (lambda: StippleOptions(device="tpu"), "stipple.device"),
        (lambda: DotStyle(ink="reddish"), "render.ink"),
        (lambda: DotStyle(width=True), "render.width"),
        (lambda: SvgOptions(palette=-1), "render.palette"),
        (lambda: PlotOptions(pen_width="abc"), "plot.pen_width"),
        (lambda: PlotOptions(paper="b12"), "plot.paper"),
        (lambda: PlotOptions(pens="red,red"), "plot.pens"),
        (lambda: PlotOptions(drop_time=-1), "plot.drop_time"),
        (lambda: PlotOptions(margin="200mm"), "plot.margin"),
    ],
)
def test_every_bad_value_has_the_one_form_naming_the_option(build, name):
    with pytest.raises(OptionError) as info:
        build()
    message = str(info.value)
    assert ONE_FORM.match(message), message
    assert message.startswith(f"{name} must "), message


def test_a_preset_error_names_the_file_and_the_key(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    path = tmp_path / "x.toml"
    path.write_text("[plot]\npen_width = 'abc'\n")
    with pytest.raises(OptionError) as info:
        presets.load_preset(str(path))
    assert str(info.value) == (
        f"{path}: plot.pen_width must be a positive pen width such as 0.3mm, got 'abc'"
    )


def test_values_are_parsed_once_into_typed_fields():
    options = PlotOptions(paper="8x10in", margin="1cm", pen_width=0.5, pens="red, #00f")
    assert options.paper == pytest.approx((203.2, 254.0)) and options.margin == 10.0
    assert [(ink.name, ink.rgb) for ink in options.pens] == [
        ("red", (255, 0, 0)),
        ("#00f", (0, 0, 255)),
    ]
    assert [pen.width for pen in options.make_pens()] == [0.5, 0.5]
    assert options.profile.name == "grbl-servo" and options.machine.speed_up == 200.0
    assert DotStyle(ink="navy", size_mm="a5").ink == (0, 0, 128)
    assert DotStyle(size_mm="a5").size_mm == (148.0, 210.0)


@pytest.mark.parametrize(
    "options",
    [
        PlotOptions(paper="a3", landscape=True, pens="cyan,black", dot_size="1mm"),
        SvgOptions(color="dots", ink="#123456", size_mm="100x50mm", dpi=150, palette=8),
        Tone(gamma=1.5, invert=True),
        StippleOptions(points=300, seed=4, radius_min=0.5),
    ],
)
def test_options_rebuild_from_their_values_and_from_what_they_print(options):
    cls = type(options)
    assert cls(**{f.name: getattr(options, f.name) for f in dataclasses.fields(cls)}) == options
    assert cls.parse(options.to_dict()) == options


def random_stipple(n: int, size: tuple[int, int] = (64, 48)) -> Stipple:
    rng = np.random.default_rng(0)
    return Stipple(rng.random((n, 2)), rng.random((n, 3)), *size)


def command_params(name: str) -> dict[str, object]:
    """The click parameters of ``stipplr NAME`` by name."""
    command = typer.main.get_command(app).commands[name]
    return {p.name: p for p in command.params}


@pytest.mark.parametrize(
    ("command", "option_sets"),
    [
        ("stipple", (StippleOptions, Tone)),
        ("batch", (StippleOptions, Tone)),
        ("plot", (StippleOptions, Tone, PlotOptions)),
    ],
)
def test_cli_flags_are_generated_from_the_option_objects(command, option_sets):
    params = command_params(command)
    for cls in option_sets:
        for spec in flag_specs(cls):
            param = params[spec.name]
            assert param.help == spec.help and param.default is None
            assert set(spec.decls[0].split("/")) <= {*param.opts, *param.secondary_opts}


def test_vpype_options_are_generated_from_the_option_objects():
    pytest.importorskip("vpype")
    from stipplr.vpype_plugin import OPTIONS, stipplr_cmd

    params = {p.name: p for p in stipplr_cmd.params}
    for cls, names in OPTIONS.items():
        specs = {spec.name: spec for spec in flag_specs(cls)}
        for name in names:
            assert params[name].help == specs[name].help


def test_the_renderers_and_the_plotter_share_one_page_fit():
    stipple = random_stipple(50, size=(300, 200))
    page = page_layout(stipple, DotStyle(width=300, height=300))
    same = fit((300, 200), (300, 300))
    assert (page.scale, page.offset) == (same.scale, same.offset)
    plot = make_plot(stipple, PlotOptions(paper="100x100mm", margin=0, dot="touch"))
    expected = fit((300, 200), (100, 100), 0, 0.0, (0.05 + 0.3) / 2)
    assert plot.layout == expected


def test_one_extension_table():
    table = renderers.formats()
    assert table["png"] == ("png", ".png") and table["svg"] == ("svg", ".svg")
    assert table["plot"] == ("plot", ".svg")  # a batch run writes plot-SVG
    plot = renderers.get("plot")
    assert set(plot.extensions) == set(FORMATS) - {".svg"} and plot.section == "plot"


def test_both_svg_writers_write_the_same_way(tmp_path: Path):
    from stipplr.plotter import write_plot

    stipple = random_stipple(20)
    picture = build_svg(stipple, SvgOptions())
    plot = write_plot(make_plot(stipple, PlotOptions(dot="circle")), tmp_path / "p.svg")
    for text in (picture, plot.read_text()):
        assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns=')
        assert 'version="1.1"' in text.splitlines()[1]


def test_toml_is_read_in_one_module_with_one_line_errors(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text("[table\n")
    with pytest.raises(OptionError, match=r"bad\.toml: not a readable G-code template \("):
        read_toml(path, "G-code template")
    with pytest.raises(OptionError, match="missing.toml: not a readable TOML file"):
        read_toml(tmp_path / "missing.toml")
    assert parse_toml_value("[1, 2]") == [1, 2] and parse_toml_value("abc") == "abc"


def test_numpy_values_from_saved_metadata_are_accepted():
    tone = Tone(gamma=np.float32(1.5), invert=np.bool_(True))
    assert tone.gamma == 1.5 and tone.invert is True
