"""``proactive data fetch``: a public dataset from its repository (here a loopback server standing in
for it), checked against its pinned SHA-256, written whole or not at all; offline, one line that says
what to download and where to put it."""

from __future__ import annotations

import hashlib
import threading
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

import pytest

from proactive.cli import main
from proactive.data import fetch as fetching
from proactive.errors import ProactiveError
from tests.test_backends import free_port

CONTENT = '{"topic_id": {}}\n'


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A folder served on loopback holding a stand-in qulac.json and its LICENSE; the pinned digest is
    the stand-in's."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / "qulac.json").write_text(CONTENT)
    (folder / "LICENSE").write_text("MIT License\n")
    spec = fetching.DATASETS["qulac"]
    monkeypatch.setitem(fetching.DATASETS, "qulac", fetching.PublicFile(
        spec.name, spec.url, hashlib.sha256(CONTENT.encode()).hexdigest(), spec.licence_url, spec.licence))
    monkeypatch.setenv("PROACTIVE_CACHE", str(tmp_path / "cache"))
    httpd = HTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_writes_the_checked_file_and_its_licence_where_commands_look(mirror, monkeypatch, capsys):
    from proactive.data.qulac import default_qulac_path

    _, url = mirror
    monkeypatch.delenv("PROACTIVE_QULAC", raising=False)
    assert main(["data", "fetch", "qulac", "--from", url]) == 0
    path = fetching.fetched_path("qulac")
    assert path.read_text() == CONTENT and (path.parent / "LICENSE").read_text() == "MIT License\n"
    assert str(path) in capsys.readouterr().out
    assert default_qulac_path() == path  # the fetched copy is what calibrate and the chapters read
    # Already there and intact: nothing is downloaded (no server needed).
    assert fetching.fetch("qulac", base_url="http://127.0.0.1:9") == path


def test_a_file_that_is_not_the_pinned_one_is_refused_and_nothing_is_written(mirror, tmp_path):
    folder, url = mirror
    (folder / "qulac.json").write_text(CONTENT.replace("{}", "[]"))
    with pytest.raises(ProactiveError, match="not the pinned") as info:
        fetching.fetch("qulac", to=tmp_path / "out" / "qulac.json", base_url=url)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_offline_is_one_line_saying_what_to_download_and_where(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PROACTIVE_CACHE", str(tmp_path / "cache"))
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert main(["data", "fetch", "qulac", "--from", url]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot reach") and "\n" not in err
    assert fetching.DATASETS["qulac"].url in err and str(fetching.fetched_path("qulac")) in err
    assert not (tmp_path / "cache").exists()


def test_qulac_missing_says_how_to_fetch_it(tmp_path, monkeypatch):
    from proactive.data.qulac import load_qulac

    with pytest.raises(ProactiveError, match="proactive data fetch qulac"):
        load_qulac(tmp_path / "absent.json")


def test_the_pinned_digest_is_the_files_where_a_copy_exists():
    beside = Path(__file__).resolve().parents[2] / "shared" / "data" / "qulac" / "qulac.json"
    if not beside.is_file():
        pytest.skip("no copy of Qulac beside the repository to check the pinned digest against")
    assert hashlib.sha256(beside.read_bytes()).hexdigest() == fetching.DATASETS["qulac"].sha256
