"""Reading and writing the project's files safely.

Writes go to a temporary file in the same folder and are renamed into place, so an interrupted
run never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import ProactiveError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: The longest file name and path the file systems we run on take (Linux NAME_MAX and PATH_MAX).
NAME_MAX, PATH_MAX = 255, 4095


def check_path_length(path: str | os.PathLike) -> Path:
    """``path``, or a one-line error if the operating system would refuse it as too long (a part over
    255 bytes, the whole over 4,095): said before any work, not as an OSError after it."""
    text = os.fsdecode(path) if not isinstance(path, str) else path
    if not text:
        raise ProactiveError("an empty path was given; name a file")
    longest = max(text.split(os.sep), key=lambda part: len(os.fsencode(part)))
    if len(os.fsencode(longest)) > NAME_MAX:
        raise ProactiveError(f"{text[:60]}...: a name in this path is {len(os.fsencode(longest))} bytes long "
                             f"(the file system takes {NAME_MAX}); choose a shorter one")
    if len(os.fsencode(text)) > PATH_MAX:
        raise ProactiveError(f"{text[:60]}...: the path is {len(os.fsencode(text))} bytes long (the file system "
                             f"takes {PATH_MAX}); choose a shorter one")
    return Path(text)


def check_writable(path: str | os.PathLike) -> Path:
    """Fail now, before any work, if ``path`` cannot be written as a file (it is a folder, or a
    folder on its way is a file, or its name is too long): a one-line error instead of losing the
    work at the end."""
    path = check_path_length(path)
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
    if exc.errno == errno.EFBIG:
        return ProactiveError(f"{path}: larger than this system lets a file grow (ulimit -f, or the file system's "
                              "limit); nothing was replaced: raise the limit or write elsewhere")
    return ProactiveError(f"{path}: cannot write ({exc.strerror or exc}); nothing was replaced: choose another output path")


#: How torch's and safetensors' writers report a file the system would not let them finish: torch's
#: zip writer says neither the file nor the reason ("unexpected pos 576 vs 534"); safetensors names
#: the operating system's error (27: file too large, 28: no space left, 122: quota).
_TORCH_WRITE_FAILED = re.compile(r"inline_container\.cc|PytorchStreamWriter failed|file write failed")
_RUST_WRITE_FAILED = re.compile(r"os error (27|28|122)\b")


def storage_failure(exc: BaseException) -> str | None:
    """The one-line error for a save that a library could not finish because the file system refused it
    (full, over a quota or a file-size limit), or None when ``exc`` is something else. Training resumes
    from its last complete checkpoint, so the line says so."""
    text = str(exc)
    if not (_TORCH_WRITE_FAILED.search(text) or _RUST_WRITE_FAILED.search(text)):
        return None
    return ("a model or checkpoint file could not be written to the end (the file system refused it: full, over "
            "a quota, or over the file-size limit of ulimit -f); free space or raise the limit, then rerun: "
            "training resumes from its last complete checkpoint")


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


def jsonl_line(row: Any) -> str:
    """One JSON-lines record, without its newline. Every writer of a ``.jsonl`` file goes through here
    and every reader through :func:`iter_jsonl`, which agree on what separates lines: only "\\n" (a
    request may hold U+2028, which ``str.splitlines`` would also split at)."""
    return json.dumps(row, ensure_ascii=False)


def atomic_write_jsonl(path: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> Path:
    """Write one JSON object per line, atomically."""
    lines = [jsonl_line(row) for row in rows]
    return atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))


def append_jsonl(path: str | os.PathLike, row: Any) -> None:
    """Append one record to a JSON-lines log (metrics): a run killed mid-write leaves at most a torn
    last line, which the log's reader drops."""
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(jsonl_line(row) + "\n")


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write a JSON document (indented, UTF-8), atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def read_text(path: str | os.PathLike) -> str:
    """A UTF-8 text file's contents, or a one-line error naming the file (missing, a folder, not UTF-8)."""
    path = check_path_length(path)
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


#: The longest whole number any input may hold. Every count, seed and weight these files carry is far
#: shorter; Python refuses to read one of over 4,300 digits with a ValueError of its own.
MAX_DIGITS = 30


class NumberTooLong(ValueError):
    """A whole number longer than any the project reads (``MAX_DIGITS``)."""


def whole_number(text: str) -> int:
    """``json``'s ``parse_int``: a whole number, or :class:`NumberTooLong` past ``MAX_DIGITS`` digits."""
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise NumberTooLong(f"a whole number of {digits:,} digits (at most {MAX_DIGITS} are read)")
    return int(text)


def parse_json(text: str, where: str) -> Any:
    """``text`` as JSON, or a one-line error that starts with ``where`` (a file, file:line, an
    endpoint): not JSON, a number too long to be one the project writes, nesting too deep to read.
    The one JSON decoder for what a user or an endpoint hands the project."""
    try:
        return json.loads(text, parse_int=whole_number)
    except NumberTooLong as exc:
        raise ProactiveError(f"{where}: {exc}; no value in these files is that long") from None
    except json.JSONDecodeError as exc:
        raise ProactiveError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise ProactiveError(f"{where}: JSON nested too deeply to read; no file of the project's nests so") from None


def read_json(path: str | os.PathLike) -> Any:
    """A JSON file's content, or a one-line error naming the file (missing, not UTF-8, not JSON)."""
    return parse_json(read_text(path), str(path))


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
            record = parse_json(line, f"{path}:{number}")
        except ProactiveError as exc:
            if "not valid JSON" in str(exc):
                raise ProactiveError(f"{exc}; each line must be one JSON object") from None
            raise
        yield number, record


def jsonl_lines(text: str) -> list[str]:
    """A JSON-lines text's lines, split where :func:`iter_jsonl` splits them (at "\\n" only)."""
    return text.split("\n")


def is_main_process() -> bool:
    """True in a single process, and in rank 0 of a multi-process run (``accelerate launch`` sets
    ``RANK``): only that process writes the run folder."""
    return int(os.environ.get("RANK", "0")) == 0
