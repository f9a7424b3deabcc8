"""Fault matrix of issue 10: every fault case against the real command line, one table, the totals.

    nice -n 10 .venv/bin/python benchmarks/fault_matrix.py            # everything: 5,000 loads while 200 builds run
    nice -n 10 .venv/bin/python benchmarks/fault_matrix.py --quick    # CI size: 2 kill steps, 150 loads / 8 builds
    .venv/bin/python benchmarks/fault_matrix.py --group index --json  # one group; a JSON report

Cases: bad questions (argv/stdin not UTF-8, empty, huge), bad batch files, bad corpus files, corrupted / foreign /
read-only / full index folders, kill -9 at each build step, concurrent build + readers, feedback-log faults
(``eval/fault_cases.py``). Prints ``cases tried N / tracebacks T / data lost L``; the exit status is 1 when
T or L is not 0 or a case did not behave as it must, else 0. Works in a temporary folder; touches nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from policy_assistant.eval.fault_cases import all_cases
from policy_assistant.eval.faults import MatrixContext, Totals, format_table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer kill steps and a short concurrency run (for CI)")
    ap.add_argument("--loads", type=int, help="index loads by the readers (default 5000, --quick 150)")
    ap.add_argument("--builds", type=int, help="builds while they read (default 200, --quick 8)")
    ap.add_argument("--group", action="append", help="only this group (repeatable): question, batch, corpus, "
                    "index, kill -9, concurrency, feedback")
    ap.add_argument("--json", action="store_true", help="print the results as JSON instead of the table")
    args = ap.parse_args(argv)
    cases = [c for c in all_cases() if (c.quick or not args.quick) and (not args.group or c.group in args.group)]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fault-matrix-") as tmp:
        ctx = MatrixContext(Path(tmp))
        ctx.shared["loads"] = args.loads or (150 if args.quick else 5000)
        ctx.shared["builds"] = args.builds or (8 if args.quick else 200)
        results = []
        for i, case in enumerate(cases):
            results.append(case(ctx, i))
            if not args.json:
                r = results[-1]
                print(f"  {r.group} / {r.name}: {'skipped' if r.skipped else 'done'} in {r.seconds:.1f} s",
                      file=sys.stderr, flush=True)
    totals = Totals.of(results)
    if args.json:
        print(json.dumps({"cases": [r.to_dict() for r in results], "totals": totals.__dict__,
                          "seconds": round(time.perf_counter() - t0, 1)}, ensure_ascii=False, indent=1))
    else:
        print(format_table(results))
        for r in results:
            if r.group == "concurrency" and not r.skipped:
                print(f"\nconcurrency: {r.extra.get('loads')} loads while {r.extra.get('builds')} builds ran, "
                      f"{r.extra.get('failed_loads')} failed loads ({r.extra.get('told_to_rebuild')} told to rebuild, "
                      f"{r.extra.get('told_no_index')} told 'no index'), {r.extra.get('failed_builds')} failed builds, "
                      f"{r.extra.get('seconds')} s")
        print(f"\n{totals.line()}   [{time.perf_counter() - t0:.0f} s]")
    return 0 if totals.ok else 1


if __name__ == "__main__":
    sys.exit(main())
