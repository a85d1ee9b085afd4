"""Reading and writing the project's files safely.

Writes go to a temporary file in the same folder and are renamed into place, so an interrupted
run never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import ProactiveError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(path: str | os.PathLike) -> Path:
    """Fail now, before any work, if ``path`` cannot be written as a file (it is a folder, or a
    folder on its way is a file): a one-line error instead of losing the work at the end."""
    path = Path(path)
    if path.is_dir():
        raise ProactiveError(f"{path}: is a folder; give a file name to write to")
    if path.exists() and not path.is_file():
        raise ProactiveError(f"{path}: is not a regular file (a device or pipe); give a file name to write to")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ProactiveError(f"{path}: {parent} is a file, not a folder; choose another output path")
            if not os.access(parent, os.W_OK):
                raise ProactiveError(f"{path}: cannot write into {parent} (permission denied); choose another output path")
            break
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` all at once (temporary file, then rename). The file gets the
    permissions an ordinary write would give it (the temporary file's are owner-only). A symbolic link
    is written through (its target is replaced, the link stays); a full disk or any other failed write
    is a one-line error, and the earlier file is left as it was."""
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    path = check_writable(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise write_error(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_error(path: str | os.PathLike, exc: OSError) -> ProactiveError:
    """The one-line error for a write that failed (a full disk above all): what, where, and that the
    earlier file is intact."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ProactiveError(f"no space left on the device writing {path}; nothing was replaced: free some space and rerun")
    return ProactiveError(f"{path}: cannot write ({exc.strerror or exc}); nothing was replaced: choose another output path")


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, what: str = "run") -> Iterator[None]:
    """Hold ``folder``'s lock while a run writes into it: a second writer is refused with one line
    naming the first's process id. The operating system drops the lock when the holder exits,
    however it exits (a kill leaves no stale lock)."""
    import fcntl

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / ".lock", "a+", encoding="utf-8")  # noqa: SIM115 (held until the run ends)
    except OSError as exc:
        raise write_error(folder / ".lock", exc) from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip() or "unknown"
            raise ProactiveError(f"{folder} is in use by another {what} (pid {pid}); wait for it to end, "
                                 "or choose another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


def atomic_write_jsonl(path: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> Path:
    """Write one JSON object per line, atomically."""
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    return atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write a JSON document (indented, UTF-8), atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def read_text(path: str | os.PathLike) -> str:
    """A UTF-8 text file's contents, or a one-line error naming the file (missing, a folder, not UTF-8)."""
    path = Path(path)
    if path.is_dir():
        raise ProactiveError(f"{path}: is a folder, not a file; give the file's path")
    if not path.is_file():
        raise ProactiveError(f"{path}: no such file; check the path")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ProactiveError(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8") from None


def iter_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSONL file.

    A line that is not valid JSON raises a :class:`ProactiveError` naming the file and line.
    """
    # One decoding path for every text file (missing, a folder, not UTF-8: read_text's errors).
    # Split on "\n" only: JSON written with ensure_ascii=False may hold U+2028 inside a string.
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise ProactiveError(
                f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno}); "
                "each line must be one JSON object"
            ) from None


def is_main_process() -> bool:
    """True in a single process, and in rank 0 of a multi-process run (``accelerate launch`` sets
    ``RANK``): only that process writes the run folder."""
    return int(os.environ.get("RANK", "0")) == 0
