"""One exception type for problems a user can fix.

Every stage raises :class:`ProactiveError` with a single line that says what is wrong and what
to do about it; the CLI prints that line instead of a traceback.
"""


class ProactiveError(Exception):
    """A user-facing error: one line, what is wrong and how to fix it."""


class TaskFormatError(ProactiveError):
    """A task record does not match the schema (names the file, line and field)."""


class BackendError(ProactiveError):
    """A text or similarity backend could not be used (names the backend and the fix)."""


def shown(value: object, limit: int = 60) -> str:
    """``value`` as an error message quotes it: its repr, cut to ``limit`` characters. A value a user
    typed may be a 5,000-item list (or a YAML alias bomb of millions); the message stays one short line."""
    import reprlib

    quoter = reprlib.Repr()
    quoter.maxstring = quoter.maxother = limit
    quoter.maxlist = quoter.maxtuple = quoter.maxdict = quoter.maxset = 6
    quoter.maxlevel = 2
    text = quoter.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
