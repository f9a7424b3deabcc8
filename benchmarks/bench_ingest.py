"""Ingest benchmark: documents/s, chunks and peak memory for the default and the scale corpus.

Run: .venv/bin/python benchmarks/bench_ingest.py [--repeat 5] [--skip-scale]
Targets (issue 2): default corpus < 5 s; scale corpus (1,564 documents) < 3 min and < 2 GB RSS.
Each corpus is ingested in a fresh subprocess so peak RSS belongs to that corpus alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
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


def run(folder: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(folder)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scale-repeat", type=int, default=3)
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        _child(args.child)
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


if __name__ == "__main__":
    main()
