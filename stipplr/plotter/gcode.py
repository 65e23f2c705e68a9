"""G-code writer: a profile's snippets around every path, statistics as comments.

Layers are plotted in order; before every layer after the first the profile's
``pen_change`` snippet (``M0``, a pause, by default) lets the user swap pens.

Coordinates are mm (``G21``) in the frame chosen by ``origin`` (see :mod:`frame`); feeds
are the machine's pen-up/pen-down speeds in mm/min; pen delays are the drop/raise times.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from stipplr.errors import printable
from stipplr.plotter.document import PlotDocument
from stipplr.plotter.frame import to_machine

if TYPE_CHECKING:
    from stipplr.plotter.options import Machine


def snippet_values(document: PlotDocument, machine: Machine) -> dict[str, float | str]:
    """The placeholder values shared by every snippet."""
    up, down = machine.pen_values
    return {
        "up": up,
        "down": down,
        "feed_up": machine.speed_up * 60,
        "feed_down": machine.speed_down * 60,
        "up_delay_s": machine.raise_time,
        "down_delay_s": machine.drop_time,
        "up_delay_ms": machine.raise_time * 1000,
        "down_delay_ms": machine.drop_time * 1000,
        "width": document.width,
        "height": document.height,
        "text": "",
    }


def gcode_chunks(
    document: PlotDocument, machine: Machine, notes: Sequence[str] = (), batch: int = 20_000
) -> Iterator[str]:
    """G-code text in ``machine``'s profile and frame, a few thousand paths at a time;
    ``notes`` become comment lines at the top."""
    profile, origin = machine.profile, machine.origin
    values = snippet_values(document, machine)
    down, up = profile.pen_down.format(**values), profile.pen_up.format(**values)
    lines = [profile.comment.format(**{**values, "text": printable(note)}) for note in notes]
    lines += [profile.header.format(**values), up]
    at = dict(values)  # the placeholders, with x and y set per point
    for number, layer in enumerate(document.layers, start=1):
        if not layer.paths:
            continue
        note = f"layer {number}: pen {layer.pen.name}"
        lines.append(profile.comment.format(**{**values, "text": printable(note)}))
        if any(earlier.paths for earlier in document.layers[: number - 1]):
            lines.append(profile.pen_change.format(**values))
        for count, path in enumerate(layer.paths, start=1):
            points = to_machine(path, document.height, origin).tolist()
            at["x"], at["y"] = f"{points[0][0]:.3f}", f"{points[0][1]:.3f}"
            lines += [profile.move.format_map(at), down]
            for x, y in points[1:]:
                at["x"], at["y"] = f"{x:.3f}", f"{y:.3f}"
                lines.append(profile.draw.format_map(at))
            lines.append(up)
            if count % batch == 0:
                yield "".join(line + "\n" for line in lines if line)
                lines = []
    lines.append(profile.footer.format(**values))
    yield "".join(line + "\n" for line in lines if line)


def plot_gcode(document: PlotDocument, machine: Machine, notes: Sequence[str] = ()) -> str:
    """The whole G-code text (see :func:`gcode_chunks`)."""
    return "".join(gcode_chunks(document, machine, notes))
