"""What a user installs: only ``stipplr*`` names, and imports that no local folder can shadow."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "stipplr", "renderers", "presets")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel built from a copy of the checkout (so no build files land in the tree)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, src / name)
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps"]
    subprocess.run(
        [*command, "--no-build-isolation", "-w", str(out), "-q"], check=True, capture_output=True
    )
    return zipfile.ZipFile(next(out.glob("stipplr-*.whl")))


def _dist_file(wheel: zipfile.ZipFile, name: str) -> str:
    return wheel.read(
        next(n for n in wheel.namelist() if n.endswith(f".dist-info/{name}"))
    ).decode()


def test_wheel_installs_only_stipplr_names(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert {t for t in tops if not t.startswith("stipplr")} == set()
    assert _dist_file(wheel, "top_level.txt").split() == ["stipplr"]
    names = set(wheel.namelist())
    shipped = ("renderers/png.py", "presets/__init__.py", "presets/portrait.toml")
    for module in (*shipped, "inks/sets/cmyk.toml", "inks/sets/fineliner-6.toml"):
        assert f"stipplr/{module}" in names
    assert "stipplr/weights/default.pt" in names
    assert not any(n.startswith("training") or "/training/" in n for n in names)


def test_renderer_entry_points_name_the_installed_modules(wheel: zipfile.ZipFile) -> None:
    entry_points = _dist_file(wheel, "entry_points.txt")
    section = entry_points.split("[stipplr.renderers]")[1].split("[")[0]
    targets = [line.split("=")[1].strip() for line in section.strip().splitlines()]
    assert targets and all(t.startswith("stipplr.renderers.") for t in targets)


def test_decoy_folders_in_the_working_directory_do_not_shadow_stipplr(tmp_path: Path) -> None:
    for decoy in ("presets", "renderers", "training"):
        (tmp_path / decoy).mkdir()
        (tmp_path / decoy / "__init__.py").write_text("raise ImportError('decoy imported')\n")
    code = (
        "import stipplr.cli, stipplr.presets, stipplr.renderers;"
        "print(stipplr.presets.list_presets()[0].name, sorted(stipplr.renderers.available()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "png" in result.stdout


def test_python_dash_m_stipplr_runs_the_cli(tmp_path: Path) -> None:
    from stipplr import __version__

    result = subprocess.run(
        [sys.executable, "-m", "stipplr", "--version"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"stipplr {__version__}"
    assert __version__ != "0+unknown"
