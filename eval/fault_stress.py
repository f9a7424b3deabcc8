"""Killed builds and concurrent readers (issue 10): the index survives kill -9 at every build step, and
readers loading it while builds run never fail.

* :func:`kill_build_at` runs ``policy-assistant index build`` with ``POLICY_ASSISTANT_BUILD_PAUSE_AT`` (the build
  stops at that progress step and says so on stderr), kills it with SIGKILL there, and checks that the previous
  index still answers the same, the next build succeeds and tidies up, and nothing but the builder's own
  ``v-…``/``.tmp-…`` folders and pointer files was removed.
* :func:`concurrent_build_and_read` runs one builder process (a new version per build) and reader processes
  that load the index with the loader ``ask`` uses (``HybridRetriever.load``) and search it, and counts loads,
  builds and failures.

``python -m policy_assistant.eval.fault_stress builder|reader …`` are the worker processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from policy_assistant.eval.faults import (
    QUESTION,
    CaseResult,
    cli_command,
    cli_env,
    lost_files,
    revise_regulation,
    run_cli,
    snapshot,
    write_tiny_corpus,
)
from policy_assistant.index.build import PAUSE_ENV

# progress steps of index/build.py: before reading the corpus, before embedding, before BM25, while the version
# folder is half written, when it is complete, when it is in place but the pointer still names the old one, and
# when the pointer names the new one but old versions are not yet removed.
KILL_STAGES = ("read:0", "embed:0", "bm25:0", "write:0", "commit:0", "commit:1", "commit:2")
OWN_NAMES = ("v-", ".tmp-", ".INDEX.json.tmp-")


# ---- kill -9 at a build step --------------------------------------------------------------------


@dataclass
class KillSetup:
    """A tiny corpus, an index folder beside a user's files, and the answer the index gave before."""

    corpus: Path
    parent: Path
    index_dir: Path
    answer: dict = field(default_factory=dict)
    builds: int = 0

    def args(self, *rest: str) -> list[str]:
        return ["--corpus", str(self.corpus), "--index-dir", str(self.index_dir), *rest]


def _answer_key(run) -> dict:
    """The parts of ``ask --json`` that must not change: status, answer, cited sections."""
    data = json.loads(run.stdout)
    return {"status": data.get("status"), "answer": data.get("answer"),
            "citations": [c.get("section") for c in data.get("citations") or []]}


def current_version(index_dir: Path) -> str:
    from policy_assistant.index.store import current_version as version

    return version(index_dir)


def prepare_kill_setup(workdir: Path, result: CaseResult) -> KillSetup:
    """Build the first index (plant a user file inside it and some beside it) and record its answer."""
    parent = workdir / "project"
    parent.mkdir(parents=True, exist_ok=True)
    (parent / "notes.txt").write_text("我的笔记\n", encoding="utf-8")
    (parent / "feedback.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\x00" * 84)
    (parent / "sub").mkdir(exist_ok=True)
    (parent / "sub" / "report.md").write_text("# 报告\n", encoding="utf-8")
    setup = KillSetup(write_tiny_corpus(workdir / "docs"), parent, parent / "index")
    build = run_cli(*setup.args("index", "build"))
    result.runs.append(build)
    result.check(build.returncode == 0, f"first build failed: {build.stderr.strip()[-200:]}")
    (setup.index_dir / "用户说明.txt").write_text("an index folder may hold a user's file too\n", encoding="utf-8")
    ask = run_cli(*setup.args("ask", "--json", QUESTION))
    result.runs.append(ask)
    if result.check(ask.returncode == 0, f"ask failed: {ask.stderr.strip()[-200:]}"):
        setup.answer = _answer_key(ask)
        result.check(setup.answer["status"] == "answered", f"the tiny index does not answer: {setup.answer}")
    return setup


def _killed_build(setup: KillSetup, stage: str, timeout: float = 300) -> tuple[int, str]:
    """Start a build that pauses at ``stage``, SIGKILL it there; returns (exit status, stderr)."""
    proc = subprocess.Popen(cli_command(*setup.args("index", "build")), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=cli_env(**{PAUSE_ENV: stage}), text=True,
                            encoding="utf-8", errors="replace")
    lines: list[str] = []
    killer = threading.Timer(timeout, proc.kill)  # never hang the matrix if the step is not reached
    killer.start()
    try:
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("paused at "):
                proc.send_signal(signal.SIGKILL)
                break
        proc.stderr.close()
        return proc.wait(), "".join(lines)
    finally:
        killer.cancel()


def kill_build_at(setup: KillSetup, stage: str, result: CaseResult) -> None:
    """kill -9 a build at ``stage``, then check the index, the next build and every planted file."""
    index_dir = setup.index_dir
    before_version = current_version(index_dir)
    setup.builds += 1
    revise_regulation(setup.corpus, setup.builds)  # the build would make a new version
    planted = snapshot([setup.parent / "notes.txt", setup.parent / "feedback.sqlite3", setup.parent / "sub",
                        index_dir / "用户说明.txt"])
    entries = {p.name for p in index_dir.iterdir()}
    rc, err = _killed_build(setup, stage)
    result.extra["killed_at"] = stage
    result.check(rc == -signal.SIGKILL and "paused at" in err, f"the build was not killed at {stage} (exit {rc})")
    after_kill = current_version(index_dir)
    if stage == "commit:2":  # the pointer already names the new, complete version
        result.check(after_kill not in ("", before_version), "the pointer was not replaced at commit:2")
    else:
        result.check(after_kill == before_version, f"the current version changed: {before_version} → {after_kill}")
    ask = run_cli(*setup.args("ask", "--json", QUESTION))
    result.runs.append(ask)
    if ask.returncode != 0:
        result.lost.append(f"{index_dir}: the index no longer loads after kill -9 at {stage}")
    elif _answer_key(ask) != setup.answer:
        result.lost.append(f"{index_dir}: the answer changed after kill -9 at {stage}")
    build = run_cli(*setup.args("index", "build"))
    result.runs.append(build)
    result.check(build.returncode == 0, f"the next build failed: {build.stderr.strip()[-200:]}")
    from policy_assistant.index.store import load_stored, stale_dirs

    leftovers = stale_dirs(index_dir) + sorted(index_dir.glob(".INDEX.json.tmp-*"))
    result.check(not leftovers, f"leftovers after the next build: {[p.name for p in leftovers]}")
    try:
        load_stored(index_dir)
    except Exception as exc:  # noqa: BLE001 - any failure to load is data lost
        result.lost.append(f"{index_dir}: the index built after the kill does not load: {exc}")
    result.lost += lost_files(planted, snapshot(planted))
    gone = {n for n in entries - {p.name for p in index_dir.iterdir()} if not n.startswith(OWN_NAMES)}
    result.lost += sorted(str(index_dir / n) for n in gone)


# ---- concurrent builds and readers --------------------------------------------------------------


@dataclass
class ConcurrencyReport:
    """What the readers saw while the builder ran."""

    loads: int = 0
    builds: int = 0
    failures: list[str] = field(default_factory=list)
    build_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def told_to_rebuild(self) -> int:
        return sum("--full" in f for f in self.failures)

    @property
    def told_no_index(self) -> int:
        return sum("no index" in f for f in self.failures)

    def to_dict(self) -> dict:
        return {"loads": self.loads, "builds": self.builds, "failed_loads": len(self.failures),
                "told_to_rebuild": self.told_to_rebuild, "told_no_index": self.told_no_index,
                "failed_builds": len(self.build_failures), "seconds": round(self.seconds, 1),
                "first_failures": (self.failures + self.build_failures)[:5]}


def _worker(role: str, corpus: Path, index_dir: Path, stop: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "policy_assistant.eval.fault_stress", role, str(corpus),
                             str(index_dir), str(stop)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=cli_env(), text=True, encoding="utf-8")


def concurrent_build_and_read(workdir: Path, *, loads: int, builds: int, readers: int = 3,
                              timeout: float = 3600) -> ConcurrencyReport:
    """Readers load and search the index until ``builds`` builds (each a new version) and ``loads`` loads are done."""
    from policy_assistant.index.store import has_index

    corpus = write_tiny_corpus(workdir / "docs")
    index_dir = workdir / "index"
    stop = workdir / "stop"
    stop.unlink(missing_ok=True)
    first = run_cli("--corpus", str(corpus), "--index-dir", str(index_dir), "index", "build")
    if first.returncode != 0 or not has_index(index_dir):
        raise RuntimeError(f"the first build failed: {first.stderr.strip()[-300:]}")
    report = ConcurrencyReport()
    lock = threading.Lock()

    def follow(proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            kind, _, msg = line.rstrip("\n").partition(" ")
            with lock:
                if kind == "load":
                    report.loads += 1
                elif kind == "build":
                    report.builds += 1
                elif kind == "load-failed":
                    report.failures.append(msg)
                elif kind == "build-failed":
                    report.build_failures.append(msg)

    t0 = time.perf_counter()
    procs = [_worker("builder", corpus, index_dir, stop)] + [_worker("reader", corpus, index_dir, stop)
                                                             for _ in range(readers)]
    threads = [threading.Thread(target=follow, args=(p,), daemon=True) for p in procs]
    for t in threads:
        t.start()
    try:
        while time.perf_counter() - t0 < timeout and any(p.poll() is None for p in procs):
            with lock:
                if report.builds >= builds and report.loads >= loads:
                    break
            time.sleep(0.2)
    finally:
        stop.touch()
        for p in procs:
            try:
                p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
        for t in threads:
            t.join(timeout=10)
    report.seconds = time.perf_counter() - t0
    dead = [p.returncode for p in procs if p.returncode not in (0, None)]
    if dead:
        report.build_failures.append(f"worker exit statuses {dead}")
    return report


def _cached_tokenizer_factory():
    """``make_tokenizer`` once per set of domain terms (a jieba start costs ~1 s; the terms rarely change)."""
    from policy_assistant.corpus.terms import make_tokenizer

    cache: dict[tuple[str, ...], object] = {}

    def factory(terms):
        key = tuple(terms)
        if key not in cache:
            cache[key] = make_tokenizer(terms)
        return cache[key]

    return factory


def _say(line: str) -> None:
    print(line.replace("\n", " "), flush=True)


def _builder(settings, corpus: Path, stop: Path) -> None:
    from policy_assistant.index.build import build_index
    from policy_assistant.index.embedders import make_embedder

    embedder, factory = make_embedder(settings), _cached_tokenizer_factory()
    n = 0
    while not stop.exists():
        n += 1
        revise_regulation(corpus, n)
        try:
            build_index(settings, embedder=embedder, tokenizer_factory=factory, lock_wait=60)
            _say("build ok")
        except Exception as exc:  # noqa: BLE001 - reported, counted, and the loop goes on
            _say(f"build-failed {type(exc).__name__}: {exc}")


def _reader(settings, stop: Path) -> None:
    from policy_assistant.index.embedders import make_embedder
    from policy_assistant.retrieval.search import HybridRetriever

    embedder, factory = make_embedder(settings), _cached_tokenizer_factory()
    while not stop.exists():
        try:
            retriever = HybridRetriever.load(settings, embedder=embedder, tokenizer_factory=factory)
            hits = retriever.search(QUESTION, k=3)
            if not hits or "第三条" not in hits[0].chunk.section:
                raise RuntimeError(f"wrong search result: {[h.chunk.section for h in hits]}")
            _say("load ok")
        except Exception as exc:  # noqa: BLE001 - every failure is what the test counts
            _say(f"load-failed {type(exc).__name__}: {exc}")


def main(argv: list[str]) -> int:
    """Worker entry point: ``builder|reader CORPUS INDEX_DIR STOP_FILE``."""
    from policy_assistant.core.config import load_settings

    role, corpus, index_dir, stop = argv
    settings = load_settings(None, corpus_dirs=[corpus], index_dir=index_dir)
    if role == "builder":
        _builder(settings, Path(corpus), Path(stop))
    else:
        _reader(settings, Path(stop))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main(sys.argv[1:]))
