"""Fault matrix (issue 10): run the real command line against bad input, damaged folders and killed builds,
and count what went wrong.

A *case* plants files, runs ``policy-assistant`` in subprocesses and reports what it saw: a **traceback** is
``Traceback`` on stderr or an exit status outside {0, 1, 2}; **data lost** is a planted file that is missing or
changed afterwards, or a previous index that no longer loads. The cases are in ``eval/fault_cases.py``, killed
builds and concurrent readers in ``eval/fault_stress.py``; ``benchmarks/fault_matrix.py`` runs them all.
Also home of the tiny corpus the fault tests build indexes of.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

TINY_LAW = """# 中华人民共和国示例保护法

2020年1月1日 第十三届全国人民代表大会常务委员会第一次会议通过

<!-- INFO END -->

## 第一章 总则

第一条 为了保护示例环境，制定本法。

第二条 排放示例污染物的单位，应当取得排污许可证。

## 第二章 法律责任

第三条 违反本法规定，未取得排污许可证排放示例污染物的，处十万元以上一百万元以下的罚款。
"""

TINY_REGULATION = """# 示例湿地管理条例

<!-- INFO END -->

第一条 为了管理示例湿地，制定本条例。

第二条 示例湿地的保护范围由县级以上人民政府划定。

第三条 在示例湿地内填埋湿地的，处五万元以上十万元以下的罚款。
"""

LAW_FILE = "示例保护法(2020-01-01).md"
REGULATION_FILE = "示例湿地管理条例(2021-01-01).md"
QUESTION = "未取得排污许可证排放示例污染物罚多少?"  # answered by TINY_LAW 第三条


def write_tiny_corpus(folder: Path) -> Path:
    """Two small documents (a law and a regulation) in ``folder``: an index of them builds in seconds."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LAW_FILE).write_text(TINY_LAW, encoding="utf-8")
    (folder / REGULATION_FILE).write_text(TINY_REGULATION, encoding="utf-8")
    return folder


def revise_regulation(folder: Path, n: int) -> None:
    """Give the regulation a new article ``n``: the next build makes a new version; answers about the law stay."""
    extra = f"\n第四条 本条例第{n}次修订后，示例湿地名录每{n % 9 + 1}年公布一次。\n"
    (Path(folder) / REGULATION_FILE).write_text(TINY_REGULATION + extra, encoding="utf-8")


class FaultUnsupported(Exception):
    """This machine cannot produce the fault (e.g. root without ``chattr``)."""


@contextmanager
def made_read_only(path: Path):
    """``path`` (a file or a folder) cannot be written inside the block; restored afterwards.

    Root ignores permission bits, so as root the path is made immutable (``chattr +i``: a real EPERM from the
    kernel); otherwise its write bits are removed. Raises :class:`FaultUnsupported` when neither works.
    """
    path = Path(path)
    if os.geteuid() == 0:
        if not shutil.which("chattr"):
            raise FaultUnsupported("running as root without chattr: cannot make a path read-only")
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if made.returncode != 0:
            raise FaultUnsupported(f"chattr +i is not supported here: {made.stderr.strip()}")
        try:
            yield path
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        try:
            yield path
        finally:
            path.chmod(mode)


# ---- running the command line -------------------------------------------------------------------


@dataclass
class CliRun:
    """One finished ``policy-assistant`` process."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def traceback(self) -> bool:
        """A crash: Python's traceback on stderr, or an exit status that is not 0, 1 or 2 (e.g. a signal)."""
        return "Traceback" in self.stderr or self.returncode not in (0, 1, 2)

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]


def cli_command(*args: str) -> list[str]:
    """The argv that runs this installation's command line."""
    return [sys.executable, "-m", "policy_assistant", *args]


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a child: UTF-8, no Python output buffering, ``extra`` on top."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8", "LANG": "C.UTF-8", **extra}


def run_cli(*args: str | bytes, cwd: Path | None = None, stdin: bytes | None = None,
            env: dict[str, str] | None = None, preexec_fn: Callable[[], None] | None = None,
            timeout: float = 300) -> CliRun:
    """Run ``policy-assistant *args`` to the end (bytes arguments are passed as they are)."""
    argv = cli_command(*(os.fsdecode(a) for a in args))
    done = subprocess.run([os.fsencode(a) for a in argv], cwd=cwd, input=stdin if stdin is not None else b"",
                          capture_output=True, env=env or cli_env(), preexec_fn=preexec_fn, timeout=timeout)
    return CliRun(argv, done.returncode, done.stdout.decode("utf-8", "replace"),
                  done.stderr.decode("utf-8", "replace"))


# ---- what a case found --------------------------------------------------------------------------


def snapshot(paths: Iterable[Path]) -> dict[str, str]:
    """sha256 of every file at or below ``paths`` (symlinks by their target text), keyed by path."""
    out: dict[str, str] = {}
    for root in paths:
        root = Path(root)
        items = [root] if not root.is_dir() or root.is_symlink() else [root, *sorted(root.rglob("*"))]
        for p in items:
            if p.is_symlink():
                out[str(p)] = "link:" + os.readlink(p)
            elif p.is_file():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
            elif p.is_dir():
                out[str(p)] = "dir"
    return out


def lost_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Planted paths that are gone or changed."""
    return sorted(p for p, digest in before.items() if after.get(p) != digest)


@dataclass
class CaseResult:
    """The outcome of one case: ``expected`` is False when the tool did not behave as the case demands."""

    group: str
    name: str
    expected: bool = True
    runs: list[CliRun] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    note: str = ""
    skipped: str = ""
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def tracebacks(self) -> int:
        return sum(r.traceback for r in self.runs)

    @property
    def exits(self) -> str:
        return ",".join(str(r.returncode) for r in self.runs) or "—"

    def check(self, condition: bool, why: str) -> bool:
        """Record an expectation; a failed one names ``why`` in the note."""
        if not condition:
            self.expected = False
            self.note = "; ".join(x for x in (self.note, why) if x)
        return condition

    def to_dict(self) -> dict:
        return {"group": self.group, "case": self.name, "exits": self.exits, "tracebacks": self.tracebacks,
                "data_lost": self.lost, "expected": self.expected, "skipped": self.skipped, "note": self.note,
                "seconds": round(self.seconds, 2), **self.extra}


class MatrixContext:
    """Shared by the cases of one run: a scratch folder, the tiny corpus and an index built of it once."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.corpus = write_tiny_corpus(self.root / "shared-docs")
        self._index: Path | None = None
        self.shared: dict = {}  # state some cases share (e.g. the killed-build setup)

    @property
    def index(self) -> Path:
        """A built index of :attr:`corpus` (built on first use with the real CLI)."""
        if self._index is None:
            index = self.root / "shared-index"
            build = run_cli("--corpus", str(self.corpus), "--index-dir", str(index), "index", "build")
            if build.returncode != 0:
                raise RuntimeError(f"cannot build the matrix's index: {build.stderr.strip()[-300:]}")
            self._index = index
        return self._index

    def copy_index(self, dest: Path) -> Path:
        """A private copy of :attr:`index` at ``dest`` (for cases that damage it)."""
        shutil.copytree(self.index, dest, ignore=shutil.ignore_patterns(".build.lock"))
        return dest

    def args(self, index: Path | None = None, corpus: Path | None = None) -> list[str]:
        """``--corpus … --index-dir …`` for the shared (or the given) corpus and index."""
        return ["--corpus", str(corpus or self.corpus), "--index-dir", str(index or self.index)]


@dataclass
class Case:
    """A named fault: ``run(ctx, workdir, result)`` plants files in ``workdir``, runs the CLI, fills in ``result``."""

    group: str
    name: str
    run: Callable[[MatrixContext, Path, CaseResult], None]
    quick: bool = True  # part of ``--quick``

    def __call__(self, ctx: MatrixContext, number: int) -> CaseResult:
        result = CaseResult(self.group, self.name)
        workdir = ctx.root / f"case-{number:03d}"
        workdir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        try:
            self.run(ctx, workdir, result)
        except FaultUnsupported as exc:
            result.skipped = str(exc)
        except Exception as exc:  # noqa: BLE001 - a broken case is reported in its row, the matrix goes on
            result.check(False, f"the case itself failed: {type(exc).__name__}: {exc}")
        result.seconds = time.perf_counter() - t0
        return result


@dataclass
class Totals:
    """``cases tried N / tracebacks T / data lost L`` (+ cases that did not behave as expected, skipped)."""

    cases: int
    tracebacks: int
    lost: int
    unexpected: int
    skipped: int

    @classmethod
    def of(cls, results: list[CaseResult]) -> Totals:
        tried = [r for r in results if not r.skipped]
        return cls(len(tried), sum(r.tracebacks for r in tried), sum(len(r.lost) for r in tried),
                   sum(not r.expected for r in tried), len(results) - len(tried))

    @property
    def ok(self) -> bool:
        return not (self.tracebacks or self.lost or self.unexpected)

    def line(self) -> str:
        return (f"cases tried {self.cases} / tracebacks {self.tracebacks} / data lost {self.lost}"
                f"  (not as expected {self.unexpected}, skipped {self.skipped})")


def format_table(results: list[CaseResult]) -> str:
    """One row per case: group, case, exit statuses, tracebacks, files lost, verdict and note."""
    rows = [("group", "case", "exit", "tb", "lost", "result", "note")]
    for r in results:
        verdict = "skipped" if r.skipped else ("ok" if r.expected and not r.tracebacks and not r.lost else "FAIL")
        rows.append((r.group, r.name, r.exits, str(r.tracebacks), str(len(r.lost)), verdict,
                     r.skipped or r.note))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row[:6], widths, strict=True)) + "  " + row[6]
                     for row in rows)


# ---- helpers for the cases ------------------------------------------------------------------------------------


def run_in(result: CaseResult, *args, **kw) -> CliRun:
    """:func:`run_cli`, recorded in ``result``."""
    run = run_cli(*args, **kw)
    result.runs.append(run)
    return run


def expect(result: CaseResult, run: CliRun, codes: tuple[int, ...] = (2,), *words: str) -> None:
    """Exit status in ``codes``; for status 2, one ``error:`` line on stderr holding every word in ``words``."""
    result.check(run.returncode in codes, f"exit {run.returncode}, expected {codes}: {run.stderr.strip()[-160:]}")
    if run.returncode == 2:
        lines = run.error_lines
        result.check(bool(lines), "no `error:` line on stderr")
        text = " ".join(lines)
        for w in words:
            result.check(w in text, f"the error does not mention {w!r}: {text[:160]}")


@contextmanager
def guarded(result: CaseResult, *paths: Path) -> Iterator[None]:
    """Every file below ``paths`` must be there, unchanged, after the block."""
    before = snapshot(paths)
    yield
    result.lost += lost_files(before, snapshot(paths))


def still_answers(result: CaseResult, index: Path, corpus: Path) -> None:
    """The index answers the question: otherwise the case lost the index."""
    run = run_cli("--corpus", str(corpus), "--index-dir", str(index), "ask", "--json", QUESTION)
    result.runs.append(run)
    if run.returncode != 0 or json.loads(run.stdout or "{}").get("status") != "answered":
        result.lost.append(f"{index}: the index no longer answers ({run.stderr.strip()[-120:]})")


def user_folder(folder: Path) -> Path:
    """A folder with a user's notes in it (what a build must never touch)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("x\n", encoding="utf-8")
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / "report.md").write_text("# 我的笔记\n", encoding="utf-8")
    return folder
