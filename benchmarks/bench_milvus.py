"""Milvus Lite vs FAISS + bm25s on the default corpus (issue 14, item 4). Medians / percentiles.

    nice -n 10 .venv/bin/python benchmarks/bench_milvus.py --index-dir data/index

Both stores are built in full from the same chunks with the vectors of ``--index-dir`` (an index of
the default corpus) looked up by text, so the build times compare the stores, not the embedder (the
embedding itself is the same for both: see bench_embed.py). Then, warm, over the gold questions:
hybrid ``search(q, k=10)`` latency p50/p95 (query embedding included) and Recall@5 / MRR of it (the
question as asked, no answer-path scoping; ``eval.metrics.first_match_rank`` on the top 10) for
FAISS + bm25s, Milvus with the project's fusion, and Milvus' own ``hybrid_search`` with RRF.
The end-to-end numbers come from ``policy-assistant eval --reuse-index`` with each store (docs/index.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


class LookupEmbedder:
    """Passages → the vectors an existing index stored for them (queries are embedded for real)."""

    def __init__(self, real, table: dict[str, np.ndarray]):
        self.name, self.dim, self._real, self._table = real.name, real.dim, real, table

    def embed_passages(self, texts):
        return np.stack([self._table[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts):
        return self._real.embed_queries(texts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", type=Path, default=REPO / "data" / "index")
    ap.add_argument("--repeats", type=int, default=3, help="full builds per store")
    args = ap.parse_args()
    from policy_assistant.core.config import load_settings
    from policy_assistant.corpus.ingest import corpus_from_settings
    from policy_assistant.eval.gold import load_gold
    from policy_assistant.eval.metrics import first_match_rank
    from policy_assistant.index.build import build_index
    from policy_assistant.index.embedders import make_embedder
    from policy_assistant.index.store import load_stored
    from policy_assistant.retrieval.search import HybridRetriever

    print(f"cpus: {os.cpu_count()}  load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-milvus-") as td:
        tmp = Path(td)
        base = load_settings(REPO / "policy-assistant.toml", data_dir=str(tmp), index_dir=str(args.index_dir))
        corpus = corpus_from_settings(base)
        stored = load_stored(args.index_dir)
        by_hash = dict(zip(stored.content_hashes, stored.vectors, strict=True))
        embedder = LookupEmbedder(make_embedder(base), {c.retrieval_text: by_hash[c.content_hash]
                                                        for c in corpus.chunks})
        stores = {"FAISS + bm25s": dict(store="faiss"), "Milvus Lite": dict(store="milvus")}
        build_s: dict[str, list[float]] = {k: [] for k in stores}
        settings = {}
        for i in range(args.repeats):
            for label, kw in stores.items():
                s = dataclasses.replace(base, index_dir=tmp / f"faiss-{i}", milvus_uri=str(tmp / f"milvus-{i}.db"),
                                        **kw)
                t0 = time.perf_counter()
                build_index(s, embedder=embedder, corpus=corpus, full=True)
                build_s[label].append(time.perf_counter() - t0)
                settings[label] = s
        items = [it for it in load_gold() if it.sources]
        print(f"\n{len(corpus.chunks)} chunks; {len(items)} gold questions with sources; builds: median of "
              f"{args.repeats} full builds with precomputed vectors\n")
        print("| store | build s | query p50 ms | query p95 ms | R@5 | MRR |")
        print("|---|---|---|---|---|---|")
        for label in (*stores, "Milvus Lite, Milvus RRF"):
            r = HybridRetriever.load(settings[label.split(",")[0]], embedder=embedder)
            if label.endswith("RRF"):
                r.fusion = "rrf"
            r.search(items[0].q, k=5)  # warm-up
            lat, ranks = [], []
            for it in items:
                t0 = time.perf_counter()
                hits = r.search(it.q, k=10)
                lat.append((time.perf_counter() - t0) * 1000)
                ranks.append(first_match_rank(it, [(h.chunk.doc_title, [h.chunk.section], h.chunk.text)
                                                   for h in hits]))
            recall5 = sum(1 for x in ranks if x and x <= 5) / len(ranks)
            mrr = sum(1 / x for x in ranks if x) / len(ranks)
            b = statistics.median(build_s[label]) if label in build_s else float("nan")
            print(f"| {label} | {b:.1f} | {np.percentile(lat, 50):.0f} | {np.percentile(lat, 95):.0f} | "
                  f"{recall5:.3f} | {mrr:.3f} |", flush=True)
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
