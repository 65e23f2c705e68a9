"""Option objects: one frozen dataclass per concern (stipple, tone, render, plot, machine).

Each field is declared once with :func:`option`: its default (written as a user would,
``"0.3mm"``), its help text, its :class:`~stipplr.validate.Kind` and, if it has one, its
command-line flag. Building the object parses every value once with its kind, so the
fields hold typed values (mm as floats, colours as RGB); :meth:`OptionSet.check` then
checks options against each other. The CLI's flags and the vpype plugin's options are
generated from :func:`flag_specs`, so a default or a help text is written once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from stipplr.validate import Kind, unknown_options

T = TypeVar("T", bound="OptionSet")


def option(
    default: Any, help: str, kind: Kind, *, flag: bool | str | tuple[str, ...] = False
) -> Any:
    """One option: its default, help text and kind; ``flag`` gives it a command-line flag
    (True: ``--name``, or ``--name/--no-name`` for true/false options; or the declarations
    themselves, such as ``("--points", "-n")``)."""
    return dataclasses.field(default=default, metadata={"help": help, "kind": kind, "flag": flag})


def kind_of(f: dataclasses.Field) -> Kind | None:
    """The kind a field was declared with (None for a plain dataclass field)."""
    return f.metadata.get("kind")


class OptionSet:
    """Base of the option objects: parses each field with its kind when built.

    ``SECTION`` is the settings table the options live in (``[plot]``); errors name an
    option as ``section.name``. None is accepted where the default is None ("unset").
    """

    SECTION: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            kind, value = kind_of(f), getattr(self, f.name)
            if kind is not None and not (value is None and f.default is None):
                object.__setattr__(self, f.name, kind(value, self.key(f.name)))
        self.check()

    def check(self) -> None:
        """Rules between options (say, a margin that must fit the paper); none here."""

    @classmethod
    def key(cls, name: str) -> str:
        """An option's name in messages: ``plot.pen_width``."""
        return f"{cls.SECTION}.{name}" if cls.SECTION else name

    @classmethod
    def option_names(cls) -> list[str]:
        """The options, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]

    @classmethod
    def parse(cls: type[T], values: Mapping[str, Any], owner: str | None = None) -> T:
        """The options from raw ``values`` (unknown names refused in one line)."""
        names = cls.option_names()
        unknown = set(values) - set(names)
        if unknown:
            raise unknown_options(cls.SECTION, unknown, names, owner)
        return cls(**values)

    @classmethod
    def parse_values(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """Just the given ``values``, parsed (defaults fill in the rest while checking)."""
        parsed = cls.parse(values)
        return {name: getattr(parsed, name) for name in values}

    @classmethod
    def format_values(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """Parsed ``values`` written back as a user would (``0.3`` mm as ``"0.3mm"``)."""
        kinds = {f.name: kind_of(f) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return {
            name: value if value is None or kinds.get(name) is None else kinds[name].format(value)
            for name, value in values.items()
        }

    def to_dict(self) -> dict[str, Any]:
        """Every option, written back as a user would (for metadata, TOML and help)."""
        return self.format_values({name: getattr(self, name) for name in self.option_names()})


@dataclass(frozen=True)
class FlagSpec:
    """A command-line flag generated from an option: the keyword the command receives,
    the flag's declarations, the type it reads, its help (with the default), the option's
    kind (which parses the flag's value) and the settings section it belongs to."""

    name: str
    decls: tuple[str, ...]
    type: type
    help: str
    kind: Kind | None = None
    section: str = ""

    @property
    def flag(self) -> str:
        """The flag's main name, as errors name it: ``--points``."""
        return self.decls[0].split("/")[0]


def help_text(f: dataclasses.Field, kind: Kind) -> str:
    """An option's help with its choices (``{choices}``: the kind's names) and default."""
    text = f.metadata["help"]
    if "{choices}" in text:
        text = text.replace("{choices}", " | ".join(kind.names()))
    if f.default is not None and kind.cli_type is not bool:
        text += f" (default: {f.default})"  # written as a user would
    return text


def flag_specs(cls: type[OptionSet]) -> list[FlagSpec]:
    """The flags of the options of ``cls`` that declare one, in declaration order."""
    specs = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        flag, kind = f.metadata.get("flag"), kind_of(f)
        if not flag or kind is None:
            continue
        dashed = "--" + f.name.replace("_", "-")
        if flag is True:
            decls = (f"{dashed}/--no-{dashed[2:]}",) if kind.cli_type is bool else (dashed,)
        else:
            decls = (flag,) if isinstance(flag, str) else tuple(flag)
        specs.append(FlagSpec(f.name, decls, kind.cli_type, help_text(f, kind), kind, cls.SECTION))
    return specs
