"""Errors stipplr raises for bad input: each prints as one line naming the culprit."""


def one_line(exc: BaseException, limit: int | None = 200) -> str:
    """``exc``'s message on one line (cut to ``limit`` characters), its type when it has none.

    Third-party errors can span lines; stipplr quotes them as the reason of a one-line error.
    A file-system error reads ``file: reason`` (no ``[Errno 13]`` prefix).
    """
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    else:
        text = " ".join(str(exc).split()) or type(exc).__name__
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def printable(text: str) -> str:
    """``text`` with control characters (newlines, terminal escapes) written as escapes,
    so a file name can neither break a one-line message nor drive the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class StipplrError(Exception):
    """Base class of stipplr's user-facing errors (one-line message, non-zero exit)."""


class ImageError(StipplrError):
    """An input image is missing, unreadable, corrupt or unsupported."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple:
        """Rebuild from (path, reason) so the error crosses process boundaries."""
        return (type(self), (self.path, self.reason))


class OptionError(StipplrError):
    """An option has a bad value (unknown name, out of range, wrong type)."""
