"""Instruction screen benchmark: the time ``Assistant`` spends per index load finding text addressed to an
AI in the chunks (answer/injection.py), and how many chunks it flags.

Run: .venv/bin/python benchmarks/bench_screen.py [--repeat 7] [--scale]
``--scale`` also screens the 1,564-document scale corpus (a check for false positives: it should flag 0).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def bench(folder: Path, repeat: int) -> None:
    from policy_assistant.answer.injection import Screen
    from policy_assistant.corpus.ingest import load_corpus

    dirs = sorted({p.parent for p in folder.rglob("*") if p.is_file()}) or [folder]
    chunks = load_corpus(dirs).chunks
    times, screen = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        screen = Screen(chunks)
        times.append((time.perf_counter() - t0) * 1000)
    flagged = sorted(c.section for c in screen.originals.values())
    print(f"{folder.name}: {len(chunks)} chunks, screen median {statistics.median(times):.1f} ms "
          f"(min {min(times):.1f}) over {repeat} runs; flagged {len(flagged)}")
    for section in flagged[:20]:
        print(f"  flagged: {section}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--scale", action="store_true", help="also screen ../shared/scale-corpus")
    args = ap.parse_args()
    bench(SHARED / "corpus", args.repeat)
    if args.scale:
        bench(SHARED / "scale-corpus", max(1, args.repeat // 3))


if __name__ == "__main__":
    main()
