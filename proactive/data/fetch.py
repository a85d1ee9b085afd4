"""Public data one command away: ``proactive data fetch qulac``.

IN3's train split ships inside the package (Apache-2.0). Qulac (MIT) is fetched instead: from its
public repository at a pinned commit, checked against the file's SHA-256, into the project's cache
folder, where :func:`proactive.data.qulac.default_qulac_path` looks first. Offline, the command says
in one line what to download and where to put it.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import ProactiveError
from ..files import atomic_write_text, check_writable


@dataclass(frozen=True)
class PublicFile:
    """One public data file: where it comes from (a pinned commit), its licence's, and its SHA-256."""

    name: str
    url: str
    sha256: str
    licence_url: str
    licence: str


_QULAC_COMMIT = "89d156280b75b2107bec9d719bfcbab76e54ce96"
_QULAC_RAW = f"https://raw.githubusercontent.com/aliannejadi/qulac/{_QULAC_COMMIT}"

DATASETS: dict[str, PublicFile] = {
    "qulac": PublicFile(
        name="qulac.json", url=f"{_QULAC_RAW}/data/qulac/qulac.json",
        sha256="da3c775efcb88e0cb48a530445812ee2a896d36b443459c7847cfdcef8024838",
        licence_url=f"{_QULAC_RAW}/LICENSE", licence="MIT (Aliannejadi et al., SIGIR 2019)"),
}

#: Seconds to wait for the server before saying it cannot be reached.
TIMEOUT = 30
#: The largest file read (Qulac is 3.8 MB): a server that sends more is not sending this file.
MAX_BYTES = 50_000_000


def data_dir() -> Path:
    """Where fetched data lives: ``$PROACTIVE_CACHE/datasets`` (default ``~/.cache/proactive/datasets``)."""
    return Path(os.environ.get("PROACTIVE_CACHE") or Path.home() / ".cache" / "proactive") / "datasets"


def fetched_path(dataset: str) -> Path:
    """Where ``proactive data fetch DATASET`` puts its file."""
    return data_dir() / dataset / DATASETS[dataset].name


def _download(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "proactive"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as reply:
            data = reply.read(MAX_BYTES + 1)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ProactiveError(f"cannot reach {url} ({str(reason)[:120]})") from None
    if len(data) > MAX_BYTES:
        raise ProactiveError(f"{url}: more than {MAX_BYTES:,} bytes; not the file expected")
    return data


def fetch(dataset: str, to: str | os.PathLike | None = None, base_url: str | None = None) -> Path:
    """Download ``dataset`` (and its licence, kept beside it), check its SHA-256, and write both
    whole or not at all. ``base_url`` replaces the public repository's address (a mirror, a test's
    server). Returns the file's path; already there and intact: nothing is downloaded."""
    if dataset not in DATASETS:
        raise ProactiveError(f"unknown dataset {dataset!r}; choose one of: {', '.join(DATASETS)}")
    spec = DATASETS[dataset]
    target = check_writable(to if to else fetched_path(dataset))  # before downloading, not after
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == spec.sha256:
        return target
    url, licence_url = spec.url, spec.licence_url
    if base_url:
        url = f"{base_url.rstrip('/')}/{spec.name}"
        licence_url = f"{base_url.rstrip('/')}/LICENSE"
    try:
        data = _download(url)
        licence = _download(licence_url)
    except ProactiveError as exc:
        raise ProactiveError(f"{exc}; offline, download {spec.url} (and its LICENSE) yourself and put it at {target}, "
                             f"or pass its path where a command asks for it") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise ProactiveError(f"{url}: the file's SHA-256 is {digest[:16]}..., not the pinned {spec.sha256[:16]}... "
                             "(a different or damaged file); nothing was written")
    try:
        text, licence_text = data.decode("utf-8"), licence.decode("utf-8")
    except UnicodeDecodeError:
        raise ProactiveError(f"{licence_url}: the licence is not text; nothing was written") from None
    atomic_write_text(target.with_name("LICENSE"), licence_text)
    atomic_write_text(target, text)
    return target
