"""Presets: every shipped preset loads and runs; flags override; bad presets fail clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from stipplr import presets
from stipplr.cli import app
from stipplr.dots import Stipple
from stipplr.errors import OptionError
from stipplr.settings import resolve_settings

runner = CliRunner()
SHIPPED = sorted(p.stem for p in presets.SHIPPED_DIR.glob("*.toml"))
REQUIRED = {
    "fine", "bold", "portrait", "color", "newsprint", "axidraw-a4-fine", "axidraw-a3",
    "grbl-servo-a4", "hp7475a", "cmyk-pens",
}  # fmt: skip
FAST = ["--engine", "dither", "--points", "150"]  # explicit flags keep the runs small


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A small colour image with a dark blob, so every tone setting leaves dots."""
    y, x = np.mgrid[0:48, 0:64]
    blob = np.exp(-((x - 32) ** 2 + (y - 24) ** 2) / 300.0)
    rgb = np.stack([0.9 - 0.8 * blob, 0.8 - 0.5 * blob, 0.7 - 0.2 * blob], axis=2)
    path = tmp_path / "photo.png"
    Image.fromarray((rgb * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture(autouse=True)
def isolated_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the user's config folder at an empty temp folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "stipplr" / "presets"


def write_preset(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_required_presets_ship() -> None:
    assert set(SHIPPED) >= REQUIRED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_runs_on_a_small_image(name: str, photo: Path, tmp_path: Path) -> None:
    preset = presets.load_preset(name)
    assert preset.description
    for command in preset.commands:
        if command == "stipple":
            args = ["stipple", str(photo), "-o", str(tmp_path / f"{name}.svg")]
        elif command == "batch":
            args = ["batch", str(photo), "--format", "png", "--out", str(tmp_path / "batch")]
        else:
            suffix = ".hpgl" if "hp" in name else ".gcode" if "grbl" in name else ".svg"
            args = ["plot", str(photo), "-o", str(tmp_path / f"{name}-plot{suffix}")]
        result = runner.invoke(app, [*args, "--preset", name, *FAST])
        assert result.exit_code == 0, (command, result.output)
    produced = [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size > 0]
    assert len(produced) > 1  # the photo plus at least one output


def test_flags_override_preset_and_preset_overrides_defaults() -> None:
    from_preset = resolve_settings("stipple", "bold")
    assert from_preset.stipple["points"] == 3500
    assert from_preset.tone["contrast"] == 1.1
    overridden = resolve_settings("stipple", "bold", stipple={"points": 123})
    assert overridden.stipple["points"] == 123
    assert overridden.tone["contrast"] == 1.1


def test_cli_flag_overrides_preset_points(photo: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.npz"
    result = runner.invoke(app, ["stipple", str(photo), "-o", str(out), "--preset", "bold", *FAST])
    assert result.exit_code == 0, result.output
    stipple = Stipple.load(out)
    assert len(stipple) == 150
    assert stipple.meta["tone"]["contrast"] == 1.1


def test_user_preset_is_found_and_shadows_shipped(isolated_user_config: Path) -> None:
    write_preset(isolated_user_config, "bold", 'description = "mine"\n[stipple]\npoints = 77\n')
    assert presets.load_preset("bold").description == "mine"
    assert resolve_settings("stipple", "bold").stipple["points"] == 77


def test_preset_by_path(tmp_path: Path) -> None:
    path = write_preset(tmp_path, "custom", "[tone]\ngamma = 2.0\n")
    assert resolve_settings("stipple", str(path)).tone["gamma"] == 2.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[stipple]\npointz = 5\n", "stipple.pointz"),
        ("[stipple]\npoints = -5\n", "stipple.points"),
        ("[stipple]\nengine = 'magic'\n", "stipple.engine"),
        ("[tone]\ngama = 2\n", "gama"),
        ("[tone]\ngamma = -1\n", "gamma"),
        ("[render]\ndot_size = -1\n", "dot_size"),
        ("[render]\nsparkle = true\n", "sparkle"),
        ("[plot]\nnib = '1mm'\n", "nib"),
        ("[colour]\nx = 1\n", "colour"),
        ("commands = ['print']\n", "commands"),
        ("[stipple\n", "not a readable TOML"),
    ],
)
def test_bad_preset_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write_preset(tmp_path, "bad", text)
    with pytest.raises(OptionError) as info:
        presets.load_preset(str(path))
    message = str(info.value)
    assert str(path) in message and expected in message and "\n" not in message


def test_preset_for_the_wrong_command(photo: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["stipple", str(photo), "-o", str(tmp_path / "x.png"), "--preset", "hp7475a"]
    )
    assert result.exit_code == 2
    assert "hp7475a.toml" in result.output and "not for `stipplr stipple`" in result.output


def test_unknown_preset_is_one_line_error(photo: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["stipple", str(photo), "-o", str(tmp_path / "x.png"), "--preset", "nope"]
    )
    assert result.exit_code == 2 and "unknown preset 'nope'" in result.output


def test_presets_command_lists_every_preset_with_description() -> None:
    result = runner.invoke(app, ["presets", "--json"])
    assert result.exit_code == 0, result.output
    import json

    rows = {row["name"]: row for row in json.loads(result.output)}
    assert set(SHIPPED) <= set(rows)
    assert all(row["description"] for row in rows.values())


def test_presets_show_prints_resolved_settings() -> None:
    result = runner.invoke(app, ["presets", "show", "axidraw-a4-fine"])
    assert result.exit_code == 0, result.output
    assert 'pen_width = "0.3mm"' in result.output
    assert 'points = "auto"' in result.output  # plot presets match the tone
    assert "speed_up = " in result.output  # defaults are filled in


def test_a_broken_user_preset_is_skipped_in_the_listing(isolated_user_config: Path) -> None:
    write_preset(isolated_user_config, "broken", "[stipple]\npointz = 5\n")
    with pytest.warns(UserWarning, match="broken.toml"):
        names = {p.name for p in presets.list_presets()}
    assert "broken" not in names and names >= REQUIRED


PICTURE_PRESETS = [
    name
    for name in SHIPPED
    if "stipple" in presets.load_preset(f"{presets.SHIPPED_DIR / name}.toml").commands
]
SAMPLE_PHOTOS = Path(__file__).resolve().parent.parent / "examples" / "photos"


def rendered_tone(preset: str, photo: Path) -> dict[str, float]:
    """How dark a preset's PNG comes out (blurred over the dot spacing) against the photo:
    overall, in its blackest 5 % and in its mid-tones (darkness 0.15-0.45, skin)."""
    from scipy import ndimage

    import stipplr
    from stipplr import renderers
    from stipplr.images import load_image
    from stipplr.tone import luminance

    settings = resolve_settings("stipple", preset)
    result = stipplr.stipple(photo, **{**settings.stipple_kwargs(), "engine": "dither"})
    png = renderers.get("png")
    out = Path(photo.stem + ".png")
    png.write(result, out, settings.output_options(png))
    ink = 1 - ndimage.gaussian_filter(np.asarray(Image.open(out).convert("L"), float) / 255, 6)
    dark = 1 - ndimage.gaussian_filter(luminance(load_image(photo)).astype(float), 6)
    black, mid = dark > np.percentile(dark, 95), (dark > 0.15) & (dark < 0.45)
    return {
        "mean": float(ink.mean() - dark.mean()),
        "blacks": float(ink[black].mean()),
        "mid": float(ink[mid].mean() / dark[mid].mean()),
    }


@pytest.mark.parametrize("preset", PICTURE_PRESETS)
def test_picture_presets_keep_blacks_black_and_mid_tones_inked(preset, tmp_path, monkeypatch):
    """Regression: `fine` and `newsprint` drew blacks mid-grey, `portrait` left faces
    nearly empty (measured on the sample photos with the dither engine, so it runs fast;
    docs/presets.md shows each preset with the default engine)."""
    monkeypatch.chdir(tmp_path)
    for name in ("astronaut", "coffee"):
        tone = rendered_tone(preset, SAMPLE_PHOTOS / f"{name}.jpg")
        assert tone["blacks"] >= 0.8, (name, tone)
        if resolve_settings("stipple", preset).render.get("color") != "dots":
            assert abs(tone["mean"]) <= 0.12, (name, tone)
            assert tone["mid"] >= 0.68, (name, tone)
