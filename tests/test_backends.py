import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

from proactive.backends import (
    ChatBackend,
    EmbeddingSimilarity,
    OpenAIChat,
    SimilarityBackend,
    make_chat_backend,
)
from proactive.errors import BackendError

MESSAGES = [{"role": "user", "content": "Plan my trip."}]


class _Handler(BaseHTTPRequestHandler):
    """A tiny OpenAI-compatible server on loopback; each test sets what it answers."""

    reply: tuple = (200, {"choices": [{"message": {"content": " What is your budget? "}}]})
    seen: list = []  # noqa: RUF012  (reset by the fixture for each test)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.path, self.headers.get("Authorization"), body))
        status, payload = type(self).reply
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.seen = []
    httpd = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/v1"
    httpd.shutdown()
    httpd.server_close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_openai_chat_sends_messages_and_key(server, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-test")
    _Handler.reply = (200, {"choices": [{"message": {"content": " What is your budget? "}}]})
    backend = OpenAIChat(server, "qwen", api_key_env="MY_KEY")
    assert isinstance(backend, ChatBackend)
    assert backend.chat(MESSAGES, max_new_tokens=20) == "What is your budget?"
    path, auth, body = _Handler.seen[-1]
    assert path == "/v1/chat/completions" and auth == "Bearer sk-test"
    assert body["model"] == "qwen" and body["messages"] == MESSAGES and body["max_tokens"] == 20


def test_endpoint_down_is_one_clear_line():
    backend = OpenAIChat(f"http://127.0.0.1:{free_port()}/v1", "qwen", timeout=2)
    with pytest.raises(BackendError) as err:
        backend.chat(MESSAGES)
    message = str(err.value)
    assert message.startswith("openai:qwen@http://127.0.0.1") and "cannot reach the endpoint" in message
    assert "start the server or fix the base URL" in message and "\n" not in message


@pytest.mark.parametrize(
    "reply, expected",
    [
        ((401, {"error": "bad key"}), r"HTTP 401 .*set a valid key in \$OPENAI_API_KEY"),
        ((404, {"error": "no such model"}), r"HTTP 404 .*check the base URL"),
        ((500, "boom"), r"HTTP 500 .*check the server's log"),
        ((200, "<html>not json</html>"), "the reply is not JSON"),
        ((200, {"choices": []}), r"reply has no choices\[0\].message.content"),
    ],
)
def test_endpoint_errors_name_backend_and_fix(server, reply, expected):
    _Handler.reply = reply
    with pytest.raises(BackendError, match=expected):
        OpenAIChat(server, "qwen").chat(MESSAGES)


def test_bad_inputs_to_backends():
    with pytest.raises(BackendError, match="must start with http"):
        OpenAIChat("localhost:8000", "m")
    with pytest.raises(BackendError, match="messages must be a non-empty list"):
        OpenAIChat("http://127.0.0.1:1/v1", "m").chat([{"role": "user"}])
    with pytest.raises(BackendError, match="unknown chat backend 'gpt'"):
        make_chat_backend("gpt")


def test_make_chat_backend_parses_endpoint_spec():
    backend = make_chat_backend("openai:llama3@http://127.0.0.1:11434/v1")
    assert isinstance(backend, OpenAIChat)
    assert backend.model == "llama3" and backend.base_url == "http://127.0.0.1:11434/v1"


@pytest.mark.slow
def test_embedding_similarity_is_offline_and_meaningful(embedder):
    assert isinstance(embedder, SimilarityBackend)
    facts = ["Our total budget for the reception is $15,000.", "The wedding is on Saturday, June 14."]
    sims = embedder.similarity(["How much money can you spend?", "When is the wedding?"], facts)
    assert sims.shape == (2, 2)
    assert sims[0, 0] > sims[0, 1] and sims[1, 1] > sims[1, 0]
    vectors = embedder.encode(facts)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert embedder.encode([]).shape == (0, vectors.shape[1])
    with pytest.raises(BackendError, match="list of strings"):
        embedder.encode("a string")


def test_embedding_cache_encodes_each_text_once():
    calls = []

    class CountingModel:
        def encode(self, texts, **kwargs):
            calls.append(list(texts))
            return np.eye(3, dtype=np.float32)[: len(texts)]

    sim = EmbeddingSimilarity(model=CountingModel())
    sim.encode(["a", "b"])
    sim.encode(["b", "a", "c", "c"])
    assert calls == [["a", "b"], ["c"]]


@pytest.mark.slow
def test_bundled_chat_model_generates_from_the_chat_template(bundled_chat):
    prompt = bundled_chat.prompt_text([{"role": "user", "content": "Plan a party for my son."}])
    assert "Plan a party for my son." in prompt and prompt.rstrip().endswith("assistant")
    reply = bundled_chat.chat([{"role": "user", "content": "Say hello."}], max_new_tokens=8)
    assert isinstance(reply, str) and reply.strip()


class _Trickle(BaseHTTPRequestHandler):
    """Answers at once with headers, then one byte every 0.3 s: every read succeeds, the reply never ends in time."""

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        import time

        for _ in range(40):
            try:
                self.wfile.write(b" ")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.3)

    def log_message(self, *args):
        pass


def test_an_endpoint_that_trickles_bytes_hits_a_total_deadline():
    import time

    httpd = HTTPServer(("127.0.0.1", 0), _Trickle)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        backend = OpenAIChat(f"http://127.0.0.1:{httpd.server_port}/v1", "slow", timeout=1.5)
        started = time.monotonic()
        with pytest.raises(BackendError) as caught:
            backend.chat(MESSAGES)
        assert time.monotonic() - started < 5  # one deadline for the whole reply, not 1.5 s per byte
        message = str(caught.value)
        assert "was reached but its reply did not arrive within 2 s" in message and "cannot reach" not in message
    finally:
        httpd.shutdown()
        httpd.server_close()


class _Leaky(BaseHTTPRequestHandler):
    """A server that redirects elsewhere, echoes the key back in an error, or breaks its reply."""

    mode = "redirect"
    other = ""  # where the redirect points
    seen: list = []  # noqa: RUF012

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        if self.mode == "redirect":
            self.send_response(302)
            self.send_header("Location", type(self).other + "/v1/chat/completions")
            self.end_headers()
        elif self.mode == "echo":
            body = json.dumps({"error": f"invalid key {self.headers.get('Authorization')}"}).encode()
            self.send_response(401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.mode == "chunked":  # a chunk size that is not hexadecimal
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"zz\r\n{}\r\n")
        elif self.mode == "no-body":  # an error whose promised body never comes
            self.send_response(500)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.flush()
            threading.Event().wait(3)

    def log_message(self, *args):
        pass


@pytest.fixture
def leaky():
    _Leaky.seen = []
    servers = [HTTPServer(("127.0.0.1", 0), _Leaky) for _ in range(2)]
    for httpd in servers:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    _Leaky.other = f"http://127.0.0.1:{servers[1].server_port}"
    yield f"http://127.0.0.1:{servers[0].server_port}/v1"
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def test_the_key_never_follows_a_redirect_nor_shows_in_a_message(leaky, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-secret-123")
    backend = OpenAIChat(leaky, "qwen", api_key_env="MY_KEY", timeout=2)
    _Leaky.mode = "redirect"
    with pytest.raises(BackendError, match="redirects .* not followed") as err:
        backend.chat(MESSAGES)
    assert len(_Leaky.seen) == 1  # the other origin was never asked, with or without the key
    _Leaky.mode = "echo"
    with pytest.raises(BackendError, match="HTTP 401") as err:
        backend.chat(MESSAGES)
    assert "sk-secret-123" not in str(err.value) and "***" in str(err.value)


@pytest.mark.parametrize("url", ["http://user:sk-secret-123@127.0.0.1:8000/v1", "http://:sk-secret-123@localhost/v1"])
def test_a_key_inside_the_url_is_refused_without_printing_it(url):
    with pytest.raises(BackendError, match=r"carries a user or key; put the key in \$OPENAI_API_KEY") as err:
        OpenAIChat(url, "qwen")
    assert "sk-secret-123" not in str(err.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:abc/v1", "http://[::1/v1", "http:///v1"])
def test_a_malformed_base_url_is_one_line(url):
    with pytest.raises(BackendError, match="openai endpoint: base URL"):
        OpenAIChat(url, "qwen")


@pytest.mark.parametrize("mode, expected", [("chunked", "the reply arrived broken"), ("no-body", "HTTP 500 .*no readable body")])
def test_a_broken_or_missing_reply_body_is_one_line(leaky, mode, expected):
    _Leaky.mode = mode
    with pytest.raises(BackendError, match=expected):
        OpenAIChat(leaky, "qwen", timeout=1).chat(MESSAGES)
