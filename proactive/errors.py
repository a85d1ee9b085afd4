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
