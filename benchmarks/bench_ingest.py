"""Ingest benchmark: documents/s, chunks and peak memory for the default and the scale corpus, and
ingest time of single large text files (1/2/4/8/50 MB).

Run: .venv/bin/python benchmarks/bench_ingest.py [--repeat 5] [--skip-scale] [--sizes 1,2,4,8,50] [--only-sizes]
Targets (issue 2): default corpus < 5 s; scale corpus (1,564 documents) < 3 min and < 2 GB RSS.
Target (issue 10): ingest grows linearly with file size; a 50 MB text file < 30 s.
Each run ingests in a fresh subprocess so peak RSS belongs to that run alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _child(folder: str) -> None:
    import resource

    from policy_assistant.corpus.ingest import load_corpus

    dirs = sorted({p.parent for p in Path(folder).rglob("*") if p.is_file()}) or [Path(folder)]
    t0 = time.perf_counter()
    result = load_corpus(dirs)
    wall = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"docs": len(result.documents), "chunks": len(result.chunks), "wall_s": wall,
                      "warnings": len(result.warnings), "peak_rss_mb": rss_mb}))


def run(folder: Path, timeout: float | None = None) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(folder)], capture_output=True, text=True, check=True,
                         timeout=timeout)
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_large_text(path: Path, megabytes: float) -> None:
    """A plain-text document of ``megabytes`` MB: a title, then prose lines (real sentences of the corpus)
    that start with no heading number, so all of it lands under one heading — the worst case for
    assembling a section's text."""
    import re

    source = (SHARED / "corpus" / "环境保护法(2014-04-24).md").read_text(encoding="utf-8")
    lines = [re.sub(r"^第[一二三四五六七八九十百]+条\s*", "", ln).strip() for ln in source.splitlines()]
    heading_like = re.compile(r"^([#<（(\d]|[一二三四五六七八九十百千零〇两]+、|附件|第)")
    sentences = [s for s in lines if len(s) > 20 and not heading_like.match(s)]
    target = int(megabytes * 1024 * 1024)
    with open(path, "w", encoding="utf-8") as f:
        f.write("大文件测试汇编\n")
        written, i = 0, 0
        while written < target:
            line = f"{sentences[i % len(sentences)]}（{i}）\n"
            f.write(line)
            written += len(line.encode("utf-8"))
            i += 1


def bench_sizes(sizes: list[float], repeat: int, timeout: float) -> None:
    """Median wall time of ingesting one large .txt file of each size (fresh subprocess per run);
    a size whose run exceeds ``timeout`` seconds is reported as such and not repeated."""
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        for mb in sizes:
            folder = Path(tmp) / f"{mb:g}mb"
            folder.mkdir()
            make_large_text(folder / f"large-{mb:g}mb.txt", mb)
            try:
                runs = [run(folder, timeout) for _ in range(repeat)]
            except subprocess.TimeoutExpired:
                print(f"{mb:g} MB file  did not finish within {timeout:g}s", flush=True)
                continue
            wall = statistics.median(r["wall_s"] for r in runs)
            rss = statistics.median(r["peak_rss_mb"] for r in runs)
            print(f"{mb:g} MB file  chunks={runs[0]['chunks']} wall median={wall:.2f}s "
                  f"(min {min(r['wall_s'] for r in runs):.2f}, max {max(r['wall_s'] for r in runs):.2f}, n={repeat}) "
                  f"MB/s={mb / wall:.2f} peak RSS median={rss:.0f} MB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scale-repeat", type=int, default=3)
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--sizes", default="1,2,4,8,50", help="large single-file sizes in MB ('' = none)")
    ap.add_argument("--size-repeat", type=int, default=3)
    ap.add_argument("--size-timeout", type=float, default=600, help="seconds before a large-file run is given up")
    ap.add_argument("--only-sizes", action="store_true", help="only the large-file runs")
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        _child(args.child)
        return
    sizes = [float(x) for x in args.sizes.split(",") if x.strip()]
    if args.only_sizes:
        bench_sizes(sizes, args.size_repeat, args.size_timeout)
        return
    for name, folder, n in (("default", SHARED / "corpus", args.repeat), ("scale", SHARED / "scale-corpus", args.scale_repeat)):
        if name == "scale" and (args.skip_scale or not folder.is_dir()):
            continue
        runs = [run(folder) for _ in range(n)]
        wall = statistics.median(r["wall_s"] for r in runs)
        rss = statistics.median(r["peak_rss_mb"] for r in runs)
        r0 = runs[0]
        print(f"{name:8s} docs={r0['docs']} chunks={r0['chunks']} warnings={r0['warnings']} "
              f"wall median={wall:.2f}s (min {min(r['wall_s'] for r in runs):.2f}, max {max(r['wall_s'] for r in runs):.2f}, n={n}) "
              f"docs/s={r0['docs'] / wall:.0f} chunks/s={r0['chunks'] / wall:.0f} peak RSS median={rss:.0f} MB")
    bench_sizes(sizes, args.size_repeat, args.size_timeout)


if __name__ == "__main__":
    main()
