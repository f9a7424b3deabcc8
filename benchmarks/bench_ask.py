"""Benchmark ``ask``: warm latency over a batch of questions, and cold start (load index + models).

    .venv/bin/python benchmarks/bench_ask.py [--index-dir DIR] [--rounds 3] [--cold-runs 3] [--questions FILE]

Questions: the gold set (dev) and the frozen test split (latency only), or ``--questions FILE``.

Warm: one Assistant, every question asked ``rounds`` times (first pass discarded as warm-up);
prints p50/p95/max of total, retrieve and answer time. Cold: ``cold-runs`` fresh processes, each
importing the package, loading index + models and answering one question; prints the median.
Targets (2 cores, extractive, issue 12): warm p50 ≤ 100 ms, p95 ≤ 300 ms; cold start ≤ 5 s.
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

_COLD = r"""
import json, sys, time
t0 = time.perf_counter()
from policy_assistant.core.config import load_settings
from policy_assistant.answer.engine import Assistant
t1 = time.perf_counter()
a = Assistant.from_settings(load_settings(**({overrides!r})))
t2 = time.perf_counter()
a.ask("PM2.5年均浓度目标是多少?")
t3 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "load_s": t2 - t1, "first_answer_s": t3 - t2, "total_s": t3 - t0}}))
"""


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def load_questions(path: str | None) -> list[str]:
    if path:
        from policy_assistant.answer.batch import read_batch_file

        return [line.question for line in read_batch_file(Path(path)) if line.error is None]
    from policy_assistant.eval.gold import DEFAULT_TEST_PATH, load_gold

    # latency only: the test split's questions are asked, nothing about their answers is looked at
    return [it.q for it in load_gold()] + [it.q for it in load_gold(DEFAULT_TEST_PATH)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", help="index folder (default: config)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--questions", help="file with one question per line (default: eval/gold.jsonl)")
    args = ap.parse_args()
    overrides = {"index_dir": str(Path(args.index_dir).resolve())} if args.index_dir else {}

    cold = []
    for _ in range(args.cold_runs):
        p = subprocess.run([sys.executable, "-c", _COLD.format(root=str(ROOT), overrides=overrides)],
                           capture_output=True, text=True, cwd=ROOT)
        if p.returncode != 0:
            print(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "cold run failed", file=sys.stderr)
            return 2
        cold.append(json.loads(p.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in cold) for k in cold[0]} if cold else {}

    from policy_assistant.answer.engine import Assistant
    from policy_assistant.core.config import load_settings
    from policy_assistant.core.errors import QuestionError

    a = Assistant.from_settings(load_settings(**overrides))
    qs = load_questions(args.questions)
    totals, retr, ans_t = [], [], []
    statuses: dict[str, int] = {}
    for r in range(args.rounds + 1):
        for q in qs:
            t = time.perf_counter()
            try:
                ans = a.ask(q)
            except QuestionError:
                continue
            dt = (time.perf_counter() - t) * 1000
            if r == 0:
                statuses[ans.status] = statuses.get(ans.status, 0) + 1
                continue  # warm-up pass
            totals.append(dt)
            retr.append(ans.timings_ms["retrieve"])
            ans_t.append(ans.timings_ms["answer"])
    print(f"questions: {len(qs)}  rounds: {args.rounds}  measured asks: {len(totals)}  statuses: {statuses}")
    print(f"warm total   p50 {pct(totals, 50):7.1f} ms  p95 {pct(totals, 95):7.1f} ms  max {max(totals):7.1f} ms"
          "   (target p50 ≤ 100, p95 ≤ 300)")
    print(f"  retrieve   p50 {pct(retr, 50):7.1f} ms  p95 {pct(retr, 95):7.1f} ms")
    print(f"  answer     p50 {pct(ans_t, 50):7.1f} ms  p95 {pct(ans_t, 95):7.1f} ms")
    if med:
        print(f"cold start (median of {len(cold)}): import {med['import_s']:.2f} s, load index+models "
              f"{med['load_s']:.2f} s, first answer {med['first_answer_s']:.2f} s, total {med['total_s']:.2f} s"
              "   (target load < 5 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
