"""Load test of the HTTP API: k ``policy-assistant serve`` processes over ONE index folder, concurrent users.

    nice -n 10 .venv/bin/python benchmarks/bench_load.py [--procs 2] [--users 1,5,20] [--requests 120]
        [--repeats 3] [--index-dir DIR] [--json out.json]

Starts ``--procs`` servers on free loopback ports (127.0.0.1 only; nothing else is contacted), all reading
the same index folder, and waits until each answers ``/healthz`` and one warm-up question. Then, for each
number of concurrent users U, a bounded script: U client threads send ``POST /v1/ask`` with the gold-set
questions, round-robin over the servers, until ``--requests`` requests are done (at least 2 per user) or
``--max-seconds`` pass. Each request is timed at the client (connect → full response); an error is any
response other than 200, or no response within 60 s. Every level runs ``--repeats`` times and the table
shows the medians over the repeats: p50/p95 latency, errors, throughput. The servers are stopped at the
end (only the processes started here). The load average is printed: other work on the machine counts too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from policy_assistant.api.launch import running_server
from policy_assistant.core.config import load_settings
from policy_assistant.eval.gold import load_gold

TIMEOUT_S = 60


def ask(url: str, question: str) -> tuple[bool, float]:
    """(ok, seconds) of one ``POST /v1/ask``."""
    data = json.dumps({"question": question}).encode("utf-8")
    req = urllib.request.Request(url + "/v1/ask", data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as r:
            ok = r.status == 200 and bool(json.loads(r.read()).get("status"))
    except (urllib.error.URLError, OSError, ValueError):
        ok = False
    return ok, time.perf_counter() - t0


def run_level(urls: list[str], questions: list[str], users: int, requests: int, max_seconds: float) -> dict:
    """One bounded run: ``users`` threads share ``requests`` requests (round-robin over ``urls``)."""
    total = max(requests, 2 * users)
    lock = threading.Lock()
    next_i = [0]
    results: list[tuple[bool, float]] = []
    deadline = time.monotonic() + max_seconds

    def user() -> None:
        while time.monotonic() < deadline:
            with lock:
                i = next_i[0]
                if i >= total:
                    return
                next_i[0] += 1
            outcome = ask(urls[i % len(urls)], questions[i % len(questions)])
            with lock:
                results.append(outcome)

    started = time.perf_counter()
    threads = [threading.Thread(target=user, daemon=True) for _ in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max_seconds + TIMEOUT_S)
    wall = time.perf_counter() - started
    ok = sorted(s for good, s in results if good)
    errors = sum(1 for good, _ in results if not good) + (total - len(results))

    def pct(p: float) -> float:
        return ok[min(len(ok) - 1, int(round(p * (len(ok) - 1))))] * 1000 if ok else float("nan")

    return {"users": users, "requests": total, "p50_ms": pct(0.50), "p95_ms": pct(0.95), "errors": errors,
            "rps": len(ok) / wall if wall else 0.0}


def median_of(runs: list[dict]) -> dict:
    out = dict(runs[0])
    for key in ("p50_ms", "p95_ms", "errors", "rps"):
        out[key] = statistics.median(r[key] for r in runs)
    out["repeats"] = len(runs)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--procs", type=int, default=2, help="server processes (default 2)")
    ap.add_argument("--users", default="1,5,20", help="concurrent users per level (default 1,5,20)")
    ap.add_argument("--requests", type=int, default=120, help="requests per level and repeat (default 120)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-seconds", type=float, default=300, help="time bound of one level run (default 300)")
    ap.add_argument("--index-dir", help="the shared index folder (default: index_dir from the config)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    overrides = {"index_dir": str(Path(args.index_dir).resolve())} if args.index_dir else {}
    settings = load_settings(**overrides)
    questions = [item.q for item in load_gold()]
    levels = [int(u) for u in args.users.split(",") if u.strip()]
    env = {"POLICY_ASSISTANT_INDEX_DIR": str(settings.index_dir), "POLICY_ASSISTANT_API_KEY": ""}
    logs = Path(settings.data_dir) / "bench-load"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"{args.procs} server process(es) over {settings.index_dir}; {len(questions)} gold questions; "
          f"{args.requests} requests per level, {args.repeats} repeat(s)", flush=True)
    with ExitStack() as stack:
        t0 = time.perf_counter()
        servers = [stack.enter_context(running_server(env=env, log_path=logs / f"server-{i}.log"))
                   for i in range(args.procs)]
        urls = [s.url for s in servers]
        for s in servers:
            status, health = s.health()
            if status != 200:
                raise SystemExit(f"error: {s.url} is not ready: {health.get('error', {}).get('message')}")
            ask(s.url, questions[0])  # warm-up (first-call costs)
        print(f"servers ready in {time.perf_counter() - t0:.1f}s: {', '.join(urls)}", flush=True)
        rows = []
        for users in levels:
            runs = [run_level(urls, questions, users, args.requests, args.max_seconds) for _ in range(args.repeats)]
            rows.append(median_of(runs))
            print(f"  {users:>3} users: p50 {rows[-1]['p50_ms']:.0f} ms, p95 {rows[-1]['p95_ms']:.0f} ms, "
                  f"errors {rows[-1]['errors']:g}", flush=True)
        rss = []
        try:
            import psutil

            rss = [psutil.Process(s.proc.pid).memory_info().rss / 2**20 for s in servers]
        except Exception:  # noqa: BLE001 - RSS is informative only
            pass

    print()
    print(f"| users | requests | p50 ms | p95 ms | errors | req/s |   ({args.procs} processes, "
          f"medians of {args.repeats})")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['users']} | {r['requests']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['errors']:g} | "
              f"{r['rps']:.1f} |")
    load = os.getloadavg()
    print(f"\nserver RSS: {', '.join(f'{m:.0f} MB' for m in rss) or 'n/a'}; "
          f"load average: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; cores: {os.cpu_count()}")
    if args.json:
        Path(args.json).write_text(json.dumps({"procs": args.procs, "rows": rows, "rss_mb": rss,
                                               "loadavg": load}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
