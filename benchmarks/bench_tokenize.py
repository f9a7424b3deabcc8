"""BM25 over the 1,564-law scale corpus, before/after the tokenising change (issue 14, item 3).

    nice -n 10 .venv/bin/python benchmarks/bench_tokenize.py                 # both engines + agreement
    nice -n 10 .venv/bin/python benchmarks/bench_tokenize.py --engines rjieba --repeats 3

For each tokenizer engine (``jieba`` = the reference, ``rjieba`` = the default) and number of
tokenising processes (``corpus.terms.tokenize_parallel``), in a fresh process each so RSS is its own: ingest + tokenise + bm25s index time, RSS, and query p50/p95 (tokenise + score all + top 30)
over 100 questions; medians over ``--repeats`` runs. Then the token agreement of rjieba with jieba
(same domain dictionary) over ``--sample`` chunks (0 = all 69k): share of tokens equal (multiset
intersection / longer list) and share of chunks with identical token lists.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCALE = (REPO / ".." / "shared" / "scale-corpus").resolve()


def load_scale():
    from policy_assistant.corpus.ingest import load_corpus

    return load_corpus(sorted({p.parent for p in SCALE.rglob("*") if p.is_file()}))


def one_run(engine: str, workers: int = 1) -> dict:
    """Ingest + tokenise + index + queries in this process; returns the numbers as a dict."""
    import numpy as np
    import psutil

    from policy_assistant.corpus.terms import make_tokenizer, tokenize_parallel
    from policy_assistant.index.bm25 import bm25_scores, build_bm25

    t0 = time.perf_counter()
    res = load_scale()
    t_ingest = time.perf_counter() - t0
    t1 = time.perf_counter()
    tok = make_tokenizer(res.domain_terms, engine=engine)
    if workers > 1:
        token_lists = tokenize_parallel([c.retrieval_text for c in res.chunks], res.domain_terms, engine, workers)
    else:
        token_lists = [tok(c.retrieval_text) for c in res.chunks]
    t_tok = time.perf_counter() - t1
    t2 = time.perf_counter()
    model = build_bm25(token_lists)
    t_index = time.perf_counter() - t2
    rss = psutil.Process().memory_info().rss / 1e6
    rng = random.Random(7)
    questions = [c.text[:30] for c in rng.sample(res.chunks, 100)]
    lat = []
    for q in questions * 2:
        t = time.perf_counter()
        scores = bm25_scores(model, tok(q))
        if scores is not None:
            top = np.argpartition(-scores, 30)[:30]
            top[np.argsort(-scores[top])]
        lat.append((time.perf_counter() - t) * 1000)
    return {"engine": engine, "workers": workers, "chunks": len(res.chunks), "ingest_s": t_ingest, "tokenise_s": t_tok,
            "index_s": t_index, "total_s": t_ingest + t_tok + t_index, "rss_mb": rss,
            "query_p50_ms": float(np.percentile(lat, 50)), "query_p95_ms": float(np.percentile(lat, 95))}


def agreement(sample: int) -> dict:
    from policy_assistant.corpus.terms import make_tokenizer

    res = load_scale()
    chunks = res.chunks if not sample else random.Random(1).sample(res.chunks, min(sample, len(res.chunks)))
    ref = make_tokenizer(res.domain_terms, engine="jieba")
    fast = make_tokenizer(res.domain_terms, engine="rjieba")
    same = inter = longest = 0
    diffs: Counter = Counter()
    for c in chunks:
        a, b = ref(c.retrieval_text), fast(c.retrieval_text)
        same += a == b
        ca, cb = Counter(a), Counter(b)
        inter += sum((ca & cb).values())
        longest += max(len(a), len(b))
        diffs.update({f"-{k}": v for k, v in (ca - cb).items()})
        diffs.update({f"+{k}": v for k, v in (cb - ca).items()})
    return {"chunks": len(chunks), "token_agreement": inter / max(1, longest),
            "identical_chunks": same / max(1, len(chunks)), "top_differences": diffs.most_common(10)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engines", default="jieba,rjieba")
    ap.add_argument("--workers", default="1,2", help="tokenising processes to try (comma-separated)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--sample", type=int, default=10000, help="chunks for the agreement (0 = all)")
    ap.add_argument("--no-agreement", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: one run in this process, JSON out
    args = ap.parse_args()
    if args.one:
        engine, _, workers = args.one.partition(":")
        print(json.dumps(one_run(engine, int(workers or 1))))
        return 0
    if not SCALE.is_dir():
        print(f"skipped: {SCALE} not found")
        return 0
    print(f"cpus: {os.cpu_count()}  load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("\n## BM25 over the scale corpus (fresh process per run; medians)")
    print("| engine | processes | chunks | ingest s | tokenise s | bm25s index s | total s | RSS MB | query p50 ms "
          "| p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    runs_for = [(e.strip(), int(w)) for e in args.engines.split(",") if e.strip() for w in args.workers.split(",")]
    for engine, workers in runs_for:
        runs = []
        for _ in range(args.repeats):
            out = subprocess.run([sys.executable, __file__, "--one", f"{engine}:{workers}"], capture_output=True,
                                 text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], float)}
        print(f"| {engine} | {workers} | {runs[0]['chunks']} | {med['ingest_s']:.1f} | {med['tokenise_s']:.1f} | "
              f"{med['index_s']:.1f} | {med['total_s']:.1f} | {med['rss_mb']:.0f} | {med['query_p50_ms']:.2f} | "
              f"{med['query_p95_ms']:.2f} |", flush=True)
    if not args.no_agreement:
        a = agreement(args.sample)
        print(f"\n## token agreement rjieba vs jieba ({a['chunks']} chunks)")
        print(f"tokens equal: {a['token_agreement']:.4%}; chunks with identical tokens: {a['identical_chunks']:.4%}")
        print(f"largest differences (-jieba only / +rjieba only): {a['top_differences']}")
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
