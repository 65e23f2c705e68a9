"""The Stipple data model: validation, derived values and file round trips."""

from __future__ import annotations

import numpy as np
import pytest

from stipplr.dots import Stipple, StippleError


def make(n: int = 5, sized: bool = True, **changes) -> Stipple:
    rng = np.random.default_rng(n)
    fields = {
        "xy": rng.random((n, 2)),
        "rgb": rng.random((n, 3)),
        "width": 40,
        "height": 20,
        "radius": rng.random(n) * 3 if sized else None,
        "meta": {"engine": "test", "tone": {"gamma": 1.5}, "seed": 7},
    }
    fields.update(changes)
    return Stipple(**fields)


def assert_same(a: Stipple, b: Stipple) -> None:
    np.testing.assert_array_equal(a.xy, b.xy)
    np.testing.assert_array_equal(a.rgb, b.rgb)
    assert (a.width, a.height, a.meta) == (b.width, b.height, b.meta)
    if a.radius is None:
        assert b.radius is None
    else:
        np.testing.assert_array_equal(a.radius, b.radius)


@pytest.mark.parametrize("radius", [True, False])
def test_npz_round_trip(tmp_path, radius):
    s = make(sized=radius)
    s.save(tmp_path / "s.npz")
    assert_same(s, Stipple.load(tmp_path / "s.npz"))


def test_empty_stipple_round_trips(tmp_path):
    s = make(0, xy=np.zeros((0, 2)), rgb=np.zeros((0, 3)), radius=None)
    s.save(tmp_path / "e.npz")
    assert len(Stipple.load(tmp_path / "e.npz")) == 0
    s.to_csv(tmp_path / "e.csv")
    assert (tmp_path / "e.csv").read_text().strip() == "x,y,x_px,y_px,r,g,b"


@pytest.mark.parametrize("radius", [True, False])
def test_csv_has_header_and_one_row_per_dot(tmp_path, radius):
    s = make(sized=radius)
    s.to_csv(tmp_path / "s.csv")
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0].startswith("x,y,x_px,y_px,r,g,b")
    assert lines[0].endswith(",radius_px") == radius
    table = np.loadtxt(tmp_path / "s.csv", delimiter=",", skiprows=1, ndmin=2)
    assert table.shape == (len(s), 8 if radius else 7)
    np.testing.assert_allclose(table[:, :2], s.xy, rtol=1e-5)
    np.testing.assert_allclose(table[:, 2:4], s.pixels(), rtol=1e-5)
    np.testing.assert_allclose(table[:, 4:7], s.rgb, rtol=1e-5)


def test_derived_values():
    s = make(xy=[[0.5, 0.25], [1.0, 0.0]], rgb=np.zeros((2, 3)), radius=None)
    np.testing.assert_allclose(s.pixels(), [[20, 5], [40, 0]])
    assert s.aspect == 2.0
    assert s.mean_spacing() == pytest.approx(np.sqrt(40 * 20 / 2))
    assert s.xy.dtype == np.float32


def test_subset_and_replace():
    s = make(6)
    half = s.subset(np.arange(6) < 3)
    assert len(half) == 3 and half.radius is not None and len(half.radius) == 3
    np.testing.assert_array_equal(half.xy, s.xy[:3])
    picked = s.subset(np.array([5, 0]))
    np.testing.assert_array_equal(picked.rgb, s.rgb[[5, 0]])
    moved = s.replace(width=80)
    assert moved.width == 80 and s.width == 40
    with pytest.raises(StippleError):
        s.replace(xy=s.xy + 2)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"xy": np.zeros((5, 3))}, "xy must have shape"),
        ({"xy": np.zeros(5)}, "xy must have shape"),
        ({"rgb": np.zeros((4, 3))}, "rgb must have shape"),
        ({"radius": np.zeros(4)}, "radius must have shape"),
        ({"xy": np.full((5, 2), 1.5)}, "xy must lie in"),
        ({"xy": np.full((5, 2), -0.1)}, "xy must lie in"),
        ({"rgb": np.full((5, 3), 2.0)}, "rgb must lie in"),
        ({"xy": np.full((5, 2), np.nan)}, "NaN"),
        ({"rgb": np.full((5, 3), np.inf)}, "NaN or infinite"),
        ({"radius": np.full(5, -1.0)}, "radius must be >= 0"),
        ({"radius": np.full(5, np.nan)}, "NaN"),
        ({"width": 0}, "width and height"),
        ({"meta": {"bad": object()}}, "JSON"),
    ],
)
def test_validation_errors_are_one_line(changes, message):
    with pytest.raises(StippleError, match=message) as info:
        make(**changes)
    assert "\n" not in str(info.value)


def test_load_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.npz"
    with pytest.raises(StippleError, match="no such file") as info:
        Stipple.load(missing)
    assert str(missing) in str(info.value)

    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    with pytest.raises(StippleError, match="not a stipplr .npz file") as info:
        Stipple.load(junk)
    assert str(junk) in str(info.value)
    assert "pickle" not in str(info.value)  # regression: numpy's reason advised unpickling

    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(StippleError, match="not a stipplr"):
        Stipple.load(other)


def test_load_rejects_meta_that_is_not_a_dict(tmp_path):
    """Regression: a file whose meta was a JSON list loaded, then ``stipplr eval`` crashed."""
    path = tmp_path / "list-meta.npz"
    arrays = {"xy": np.full((2, 2), 0.5), "rgb": np.zeros((2, 3)), "size": np.array([4, 3])}
    np.savez(path, **arrays, meta=np.array("[1]"))
    with pytest.raises(StippleError, match="meta must be a dict") as info:
        Stipple.load(path)
    assert str(path) in str(info.value)


def test_load_rejects_out_of_range_arrays(tmp_path):
    path = tmp_path / "bad.npz"
    make().save(path)
    with np.load(path) as data:
        arrays = dict(data)
    arrays["xy"] = arrays["xy"] + 5
    np.savez(path, **arrays)
    with pytest.raises(StippleError, match="xy must lie in") as info:
        Stipple.load(path)
    assert str(path) in str(info.value)


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    make().save(tmp_path / "s.npz")
    make(7).save(tmp_path / "s.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["s.npz"]
    assert len(Stipple.load(tmp_path / "s.npz")) == 7
