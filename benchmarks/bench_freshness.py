"""Cost of the stale-index check (``index/freshness.py``) that the app and ``ask`` run before answering.

    .venv/bin/python benchmarks/bench_freshness.py [--repeat 200]

For the default corpus (20 files) and the scale corpus (1,564 files in folders): the file records a build
would write are made from an ingest, then ``FreshnessChecker.check(force=True)`` is timed on the
unchanged corpus (one stat() per file; what a question pays at most), after one file was touched (its
mtime changed, the bytes did not: hashed once, then remembered), and the throttled call the app makes on
every page run (result reused for 2 s). Prints medians and p95 in milliseconds.
Target (issue 10): unchanged corpus < 5 ms per question for the default corpus.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _ms(samples: list[float]) -> str:
    s = sorted(samples)
    return f"median {statistics.median(s) * 1000:.3f} ms, p95 {s[int(0.95 * (len(s) - 1))] * 1000:.3f} ms"


def _time(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def bench(name: str, source: Path, repeat: int) -> None:
    from policy_assistant.corpus.ingest import load_corpus
    from policy_assistant.index.freshness import FreshnessChecker, source_records

    with tempfile.TemporaryDirectory(prefix="bench-fresh-") as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(source, corpus)  # a copy: the benchmark touches a file
        dirs = sorted({p.parent for p in corpus.rglob("*") if p.is_file()})
        result = load_corpus(dirs)
        manifest = {"sources": source_records(result.sources),
                    "documents": {d.doc_id: {"title": d.title} for d in result.documents}}
        checker = FreshnessChecker(manifest, dirs)
        assert not checker.check(force=True).stale
        unchanged = _time(lambda: checker.check(force=True), repeat)
        throttled = _time(checker.check, repeat)
        victim = next(p for p in dirs[0].iterdir() if p.is_file())
        st = victim.stat()
        os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        first_after_touch = _time(lambda: checker.check(force=True), 1)
        after_touch = _time(lambda: checker.check(force=True), repeat)
        assert not checker.check(force=True).stale
        print(f"{name:8s} files={len(result.sources)}  unchanged: {_ms(unchanged)}  |  throttled call: "
              f"{_ms(throttled)}  |  first check after a touch (hashes {victim.stat().st_size / 1e3:.0f} kB): "
              f"{first_after_touch[0] * 1000:.3f} ms, later: {_ms(after_touch)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--skip-scale", action="store_true")
    args = ap.parse_args()
    bench("default", SHARED / "corpus", args.repeat)
    if not args.skip_scale and (SHARED / "scale-corpus").is_dir():
        bench("scale", SHARED / "scale-corpus", max(20, args.repeat // 10))


if __name__ == "__main__":
    main()
