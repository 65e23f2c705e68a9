"""Pens and inks: pen sets (:mod:`~stipplr.inks.pensets`), the subtractive ink model
(:mod:`~stipplr.inks.model`) and the separation of a photo into one ink map per pen
(:mod:`~stipplr.inks.separation`)."""

from stipplr.inks.model import composite
from stipplr.inks.pensets import Ink, PenSet, parse_pen_set, pen_set_names
from stipplr.inks.separation import Separation, separate

__all__ = [
    "Ink",
    "PenSet",
    "Separation",
    "composite",
    "parse_pen_set",
    "pen_set_names",
    "separate",
]
