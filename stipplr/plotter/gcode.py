"""G-code writer: a profile's snippets around every path, statistics as comments.

Layers are plotted in order; before every layer after the first the profile's
``pen_change`` snippet (``M0``, a pause, by default) lets the user swap pens.

Coordinates are mm (``G21``) in the frame chosen by ``origin`` (see :mod:`frame`); feeds
are the machine's pen-up/pen-down speeds in mm/min; pen delays are the drop/raise times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

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


def plot_gcode(document: PlotDocument, machine: Machine, notes: Sequence[str] = ()) -> str:
    """G-code text in ``machine``'s profile and frame; ``notes`` become comment lines at the
    top."""
    profile, origin = machine.profile, machine.origin
    values = snippet_values(document, machine)
    lines = [profile.comment.format(**{**values, "text": note}) for note in notes]
    lines += [profile.header.format(**values), profile.pen_up.format(**values)]
    for number, layer in enumerate(document.layers, start=1):
        if not layer.paths:
            continue
        note = f"layer {number}: pen {layer.pen.name}"
        lines.append(profile.comment.format(**{**values, "text": note}))
        if any(earlier.paths for earlier in document.layers[: number - 1]):
            lines.append(profile.pen_change.format(**values))
        for path in layer.paths:
            points = [
                (f"{x:.3f}", f"{y:.3f}") for x, y in to_machine(path, document.height, origin)
            ]
            lines.append(profile.move.format(**values, x=points[0][0], y=points[0][1]))
            lines.append(profile.pen_down.format(**values))
            lines += [profile.draw.format(**values, x=x, y=y) for x, y in points[1:]]
            lines.append(profile.pen_up.format(**values))
    lines.append(profile.footer.format(**values))
    return "\n".join(line for line in lines if line) + "\n"
