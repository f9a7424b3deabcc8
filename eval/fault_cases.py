"""The cases of the fault matrix (issue 10), by group: bad questions, bad batch files, bad corpus files, damaged
index folders, killed builds, concurrent build + readers, feedback-log faults. Each runs the real command line.

Every case states what the tool must do (usually: exit status 2 and one ``error:`` line naming the fix), and
plants the files it guards: a planted file that is missing or changed afterwards counts as data lost.
"""

from __future__ import annotations

import json
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from policy_assistant.eval.fault_stress import (
    KILL_STAGES,
    concurrent_build_and_read,
    kill_build_at,
    prepare_kill_setup,
)
from policy_assistant.eval.faults import (
    QUESTION,
    TINY_LAW,
    Case,
    CaseResult,
    CliRun,
    MatrixContext,
    cli_command,
    cli_env,
    lost_files,
    made_read_only,
    run_cli,
    snapshot,
    write_tiny_corpus,
)
from policy_assistant.index.build import PAUSE_ENV

# ---- helpers ------------------------------------------------------------------------------------


def _run(result: CaseResult, *args, **kw) -> CliRun:
    run = run_cli(*args, **kw)
    result.runs.append(run)
    return run


def _expect(result: CaseResult, run: CliRun, codes: tuple[int, ...] = (2,), *words: str) -> None:
    """Exit status in ``codes``; for status 2, one ``error:`` line on stderr holding every word in ``words``."""
    result.check(run.returncode in codes, f"exit {run.returncode}, expected {codes}: {run.stderr.strip()[-160:]}")
    if run.returncode == 2:
        lines = run.error_lines
        result.check(bool(lines), "no `error:` line on stderr")
        text = " ".join(lines)
        for w in words:
            result.check(w in text, f"the error does not mention {w!r}: {text[:160]}")


@contextmanager
def _guarded(result: CaseResult, *paths: Path) -> Iterator[None]:
    """Every file below ``paths`` must be there, unchanged, after the block."""
    before = snapshot(paths)
    yield
    result.lost += lost_files(before, snapshot(paths))


def _still_loads(result: CaseResult, index: Path, corpus: Path) -> None:
    """The index answers the question: otherwise the case lost the index."""
    run = run_cli("--corpus", str(corpus), "--index-dir", str(index), "ask", "--json", QUESTION)
    result.runs.append(run)
    if run.returncode != 0 or json.loads(run.stdout or "{}").get("status") != "answered":
        result.lost.append(f"{index}: the index no longer answers ({run.stderr.strip()[-120:]})")


def _user_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("x\n", encoding="utf-8")
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / "report.md").write_text("# 我的笔记\n", encoding="utf-8")
    return folder


# ---- bad questions ------------------------------------------------------------------------------


def _ask_case(question: bytes | str, codes: tuple[int, ...], *words: str):
    def run(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
        with _guarded(result, ctx.index):
            _expect(result, _run(result, *ctx.args(), "ask", question), codes, *words)
    return run


def _stdin_batch(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    data = b"\xff\xfe \xe7\x8e\xaf\xe5\xa2\x83\n" + QUESTION.encode() + b"\n"
    with _guarded(result, ctx.index):
        run = _run(result, *ctx.args(), "ask", "--json", "--batch", "-", stdin=data)
    _expect(result, run, (2,), "line 1")
    result.check(run.stdout.count("\n") == 2 and '"answered"' in run.stdout, "the good line was not answered")


# ---- bad batch files ----------------------------------------------------------------------------


def _batch_case(content: bytes | None, codes: tuple[int, ...], answered: int | None, *words: str,
                folder: bool = False):
    def run(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
        path = work / "questions.txt"
        if folder:
            path.mkdir()
        elif content is not None:
            path.write_bytes(content)
        with _guarded(result, ctx.index, path):
            r = _run(result, *ctx.args(), "ask", "--json", "--batch", str(path))
        _expect(result, r, codes, *words)
        result.check(answered is None or r.stdout.count('"answered"') == answered, f"{r.stdout.count(chr(10))} records, "
                     f"expected {answered} answered")
    return run


BATCH_CASES = [
    ("invalid UTF-8 line", b"\xff\xfe \xe7\x8e\xaf\n" + QUESTION.encode() + b"\n", (2,), 1, ("line 1",)),
    ("GBK-encoded file", (QUESTION + "\n").encode("gbk"), (0,), 1, ()),
    ("malformed JSON line", b'{"q": "broken\n' + json.dumps({"q": QUESTION}).encode() + b"\n", (2,), 1,
     ("line 1",)),
    ("JSON object without q", b'{"question": 1}\n' + QUESTION.encode() + b"\n", (2,), 1, ("line 1",)),
    ("empty file", b"", (0, 2), 0, ()),
    ("missing file", None, (2,), 0, ("questions.txt",)),
]


# ---- bad corpus files ---------------------------------------------------------------------------


def _corpus_case(plant, codes: tuple[int, ...], *words: str, build: bool = False):
    """The tiny corpus plus whatever ``plant(folder)`` adds; ``corpus show`` (and ``index build``)."""
    def run(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
        corpus = write_tiny_corpus(work / "docs")
        extra = plant(corpus) or []
        with _guarded(result, corpus):
            show = _run(result, "--corpus", str(corpus), *[a for p in extra for a in ("--corpus", str(p))],
                        "--index-dir", str(work / "index"), "corpus", "show")
            _expect(result, show, codes, *words)
            result.check(all(w in show.stdout + show.stderr for w in words),
                         f"no mention of {words}")
            if build:
                b = _run(result, "--corpus", str(corpus), "--index-dir", str(work / "index"), "index", "build")
                _expect(result, b, codes)
    return run


def _binary(d: Path):
    (d / "数据.txt").write_bytes(bytes(range(256)) * 64)


def _empty(d: Path):
    (d / "空文件.txt").write_bytes(b"")


def _loop(d: Path):
    (d / "a.md").symlink_to(d / "b.md")
    (d / "b.md").symlink_to(d / "a.md")


def _dangling(d: Path):
    (d / "已删除.md").symlink_to(d / "nowhere.md")


def _duplicate(d: Path):
    (d / "副本.md").write_text(TINY_LAW, encoding="utf-8")


def _folder_named_like_a_file(d: Path):
    (d / "目录.md").mkdir()


def _missing_second(d: Path):
    return [d.parent / "no-such-folder"]


def _only_bad(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    corpus = work / "docs"
    corpus.mkdir()
    _binary(corpus)
    _empty(corpus)
    with _guarded(result, corpus):
        _expect(result, _run(result, "--corpus", str(corpus), "--index-dir", str(work / "index"), "index", "build"),
                (2,), "no document")


def _corpus_is_a_loop(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    (work / "loop").symlink_to(work / "loop")
    _expect(result, _run(result, "--corpus", str(work / "loop"), "--index-dir", str(work / "index"), "corpus",
                         "show"), (2,))


# ---- index folders ------------------------------------------------------------------------------


def _damaged_index(damage, ask_codes: tuple[int, ...], build_codes: tuple[int, ...], *words: str):
    """A copy of the shared index, damaged by ``damage(index)``: ``ask``, then ``index build``."""
    def run(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
        index = ctx.copy_index(work / "index")
        (index / "用户说明.txt").write_text("a user's file inside the index folder\n", encoding="utf-8")
        damage(index)
        with _guarded(result, index / "用户说明.txt", ctx.corpus):
            _expect(result, _run(result, *ctx.args(index), "ask", "--json", QUESTION), ask_codes, *words)
            _expect(result, _run(result, *ctx.args(index), "index", "build"), build_codes)
        if build_codes == (0,):
            _still_loads(result, index, ctx.corpus)
    return run


def _current(index: Path) -> Path:
    return index / json.loads((index / "INDEX.json").read_text(encoding="utf-8"))["current"]


def _flip_chunks(index: Path):
    p = _current(index) / "chunks.jsonl"
    p.write_bytes(p.read_bytes().replace("罚款".encode(), "奖励".encode()))


def _garbage_pointer(index: Path):
    (index / "INDEX.json").write_bytes(b"\x00garbage")


def _manifest_edit(edit):
    def damage(index: Path):
        path = _current(index) / "manifest.json"
        m = json.loads(path.read_text(encoding="utf-8"))
        edit(m)
        path.write_text(json.dumps(m), encoding="utf-8")
    return damage


def _docs_as_list(m: dict):
    m["documents"] = list(m["documents"].values())


def _path_outside(m: dict):
    m["files"]["../../../../etc/passwd"] = "0" * 64


def _version_gone(index: Path):
    import shutil

    shutil.rmtree(_current(index))


def _refused_folder(make, *words: str, cwd_is_target: bool = False):
    """``index build`` into a folder that is not an index: exit 2, nothing in it (or beside it) touched."""
    def run(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
        target = make(work)
        with _guarded(result, work):
            args = ("--corpus", str(ctx.corpus), "--index-dir", "." if cwd_is_target else str(target))
            _expect(result, _run(result, *args, "index", "build", cwd=target if cwd_is_target else None), (2,),
                    *words)
    return run


def _with_feedback_db(work: Path) -> Path:
    folder = work / "data"
    folder.mkdir()
    with sqlite3.connect(folder / "feedback.sqlite3") as con:
        con.execute("CREATE TABLE feedback (id INTEGER)")
        con.execute("INSERT INTO feedback VALUES (1)")
    return folder


def _a_file(work: Path) -> Path:
    (work / "index").write_text("not a folder\n", encoding="utf-8")
    return work / "index"


def _read_only_index(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    index = ctx.copy_index(work / "index")
    with _guarded(result, index), made_read_only(index):
        _expect(result, _run(result, *ctx.args(index), "index", "build", "--full"), (2,), "the current index")
    _still_loads(result, index, ctx.corpus)


def _read_only_parent(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    parent = _user_folder(work / "ro")
    with _guarded(result, parent), made_read_only(parent):
        _expect(result, _run(result, *ctx.args(parent / "index"), "index", "build"), (2,), "cannot create the index folder")


def _file_size_limit(limit: int):
    """The child cannot grow any file past ``limit`` bytes (EFBIG): a disk that fills up during the build,
    without root or a small file system."""
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def _disk_full(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    index = ctx.copy_index(work / "index")
    before = _current(index).name
    with _guarded(result, _current(index)):
        run = _run(result, *ctx.args(index), "index", "build", "--full", preexec_fn=_file_size_limit(4096))
    _expect(result, run, (2,), "still in use")
    result.check(_current(index).name == before, "the current version changed")
    result.check(not list(index.glob(".tmp-*")), "a half-written version was left behind")
    _still_loads(result, index, ctx.corpus)


def _second_build_while_locked(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    index = ctx.copy_index(work / "index")
    first = subprocess.Popen(cli_command(*ctx.args(index), "index", "build", "--full"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=cli_env(**{PAUSE_ENV: "read:0"}), text=True)
    try:
        for line in first.stderr:
            if line.startswith("paused at"):
                break
        _expect(result, _run(result, *ctx.args(index), "index", "build"), (2,), "another index build")
    finally:
        first.kill()
        first.wait()
    _expect(result, _run(result, *ctx.args(index), "index", "build"), (0,))
    _still_loads(result, index, ctx.corpus)


# ---- killed builds and concurrency ----------------------------------------------------------------


def _kill_case(stage: str):
    def run(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
        if "kill" not in ctx.shared:
            ctx.shared["kill"] = prepare_kill_setup(ctx.root / "kill", result)
        kill_build_at(ctx.shared["kill"], stage, result)
    return run


def _concurrency(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    loads, builds = ctx.shared.get("loads", 5000), ctx.shared.get("builds", 200)
    report = concurrent_build_and_read(work, loads=loads, builds=builds)
    result.extra.update(report.to_dict())
    result.note = f"{report.loads} loads while {report.builds} builds ran, {len(report.failures)} failed"
    result.check(not report.failures, f"failed loads: {report.failures[:3]}")
    result.check(not report.build_failures, f"failed builds: {report.build_failures[:3]}")
    result.check(report.loads >= loads and report.builds >= builds, "did not reach the counts")


# ---- feedback log -------------------------------------------------------------------------------

_FEEDBACK_CHILD = """
import sys
from pathlib import Path
from policy_assistant.eval.feedback import FeedbackError, FeedbackStore
mode, db = sys.argv[1], Path(sys.argv[2])
answer = {"question": "q", "status": "answered", "answer": "a", "citations": []}
try:
    store = FeedbackStore(db)
    if mode == "seed":
        store.record(answer, rating="down")
    elif mode == "comment-read-only":
        store.update(1, comment="罚款数额没有写全")
    else:  # deleted while running: the store object outlives its file
        store.record(answer, rating="up")
        db.unlink()
        store.update(store.record(answer, rating="down"), comment="新的说明")
        assert store.count() == 1, store.count()
except FeedbackError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)
"""


def _feedback_run(mode: str, db: Path) -> CliRun:
    """The library path the app takes (FeedbackStore), in a child process: only FeedbackError may come out."""
    argv = [sys.executable, "-c", _FEEDBACK_CHILD, mode, str(db)]
    done = subprocess.run(argv, capture_output=True, env=cli_env(), cwd=db.parent.parent)
    return CliRun(argv, done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


def _feedback_db(work: Path) -> Path:
    """A feedback log with one rated answer."""
    db = work / "fb.sqlite3"
    seeded = _feedback_run("seed", db)
    if seeded.returncode != 0:
        raise RuntimeError(seeded.stderr)
    return db


def _feedback_child(mode: str, codes: tuple[int, ...], *words: str):
    def run(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
        if mode == "comment-read-only":
            db = _feedback_db(work)
            with _guarded(result, db), made_read_only(db):
                done = _feedback_run(mode, db)
        else:
            done = _feedback_run(mode, work / "data" / "fb.sqlite3")
        result.runs.append(done)
        _expect(result, done, codes, *words)
    return run


def _feedback_cli(setup, args_of, codes: tuple[int, ...], *words: str):
    def run(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
        db, guard, ro = setup(work)
        env = cli_env(POLICY_ASSISTANT_FEEDBACK_DB=str(db))
        with _guarded(result, *guard):
            if ro is not None:
                with made_read_only(ro):
                    r = _run(result, "feedback", *args_of(work), env=env)
            else:
                r = _run(result, "feedback", *args_of(work), env=env)
        _expect(result, r, codes, *words)
    return run


def _ro_db(work: Path):
    db = _feedback_db(work)
    return db, [db], db


def _ro_export_folder(work: Path):
    db = _feedback_db(work)
    out = work / "ro"
    out.mkdir()
    (out / "feedback.jsonl").write_text("an earlier export\n", encoding="utf-8")
    return db, [db, out], out


def _garbage_db(work: Path):
    db = work / "fb.sqlite3"
    db.write_bytes(b"this is not a database\n" * 10)
    return db, [db], None


# ---- the matrix ---------------------------------------------------------------------------------


def all_cases() -> list[Case]:
    """Every case of the matrix, in the order they run."""
    huge = "排污许可证" * 8_000  # 120 KB: just under the kernel's limit for one argument
    cases = [
        Case("question", "argv not UTF-8", _ask_case(b"\xff\xfe \xe7\x8e\xaf", (2,), "UTF-8")),
        Case("question", "argv in GBK", _ask_case(QUESTION.encode("gbk"), (0,))),
        Case("question", "stdin line not UTF-8", _stdin_batch),
        Case("question", "empty", _ask_case("", (2,))),
        Case("question", "only spaces", _ask_case("   \t ", (2,))),
        Case("question", "40,000 characters", _ask_case(huge, (0, 2))),
        Case("question", "1 MB line in a batch file", _batch_case(("罚款" * 170_000 + "\n").encode(), (0, 2), None)),
        Case("question", "control characters", _ask_case("\x1b[31m罚款\x07\x08", (0, 2))),
    ]
    cases += [Case("batch", name, _batch_case(content, codes, answered, *words, folder=False))
              for name, content, codes, answered, words in BATCH_CASES]
    cases.append(Case("batch", "path is a folder", _batch_case(None, (2,), 0, folder=True)))
    cases += [
        Case("corpus", "binary file", _corpus_case(_binary, (0,), "数据.txt", build=True)),
        Case("corpus", "empty file", _corpus_case(_empty, (0,), "空文件.txt", build=True)),
        Case("corpus", "symlink loop", _corpus_case(_loop, (0, 2), "loop", build=True)),
        Case("corpus", "dangling symlink (unreadable)", _corpus_case(_dangling, (0, 2), "已删除.md")),
        Case("corpus", "duplicate document", _corpus_case(_duplicate, (0,), "副本.md", build=True)),
        Case("corpus", "folder named like a document", _corpus_case(_folder_named_like_a_file, (0, 2))),
        Case("corpus", "missing second folder", _corpus_case(_missing_second, (2,), "--allow-missing")),
        Case("corpus", "only unreadable files", _only_bad),
        Case("corpus", "corpus folder is a symlink loop", _corpus_is_a_loop),
        Case("index", "checksum mismatch", _damaged_index(_flip_chunks, (2,), (0,), "--full")),
        Case("index", "garbage INDEX.json", _damaged_index(_garbage_pointer, (2,), (2,))),
        Case("index", "documents is a list", _damaged_index(_manifest_edit(_docs_as_list), (2,), (0,))),
        Case("index", "manifest path outside", _damaged_index(_manifest_edit(_path_outside), (2,), (0,),
                                                              "not inside")),
        Case("index", "current version deleted", _damaged_index(_version_gone, (2,), (0,))),
        Case("index", "foreign folder", _refused_folder(lambda w: _user_folder(w / "mydata"), "notes.txt")),
        Case("index", "--index-dir .", _refused_folder(lambda w: _user_folder(w / "cwd"), cwd_is_target=True)),
        Case("index", "folder holding a feedback DB", _refused_folder(_with_feedback_db, "feedback.sqlite3")),
        Case("index", "index path is a file", _refused_folder(_a_file)),
        Case("index", "read-only index folder", _read_only_index),
        Case("index", "read-only parent", _read_only_parent),
        Case("index", "disk full (file size limit)", _disk_full),
        Case("index", "second build while one runs", _second_build_while_locked),
    ]
    cases += [Case("kill -9", f"at {stage}", _kill_case(stage), quick=stage in ("write:0", "commit:1"))
              for stage in KILL_STAGES]
    cases.append(Case("concurrency", "build + readers", _concurrency))
    cases += [
        Case("feedback", "comment on read-only DB", _feedback_child("comment-read-only", (2,), "read-only")),
        Case("feedback", "DB deleted while running", _feedback_child("deleted", (0,))),
        Case("feedback", "stats on read-only DB", _feedback_cli(_ro_db, lambda w: ["stats"], (0,))),
        Case("feedback", "export to read-only folder",
             _feedback_cli(_ro_export_folder, lambda w: ["export", str(w / "ro" / "feedback.jsonl")], (2,))),
        Case("feedback", "stats on a file that is not a DB", _feedback_cli(_garbage_db, lambda w: ["stats"], (2,))),
    ]
    return cases

