"""Fault-matrix cases for stored data (issue 10): damaged, foreign, read-only and full index folders, a second
build while one runs, and feedback-log faults. The other groups are in ``eval/fault_cases.py``."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from policy_assistant.eval.faults import (
    QUESTION,
    Case,
    CaseResult,
    CliRun,
    MatrixContext,
    cli_command,
    cli_env,
    expect,
    guarded,
    made_read_only,
    run_in,
    still_answers,
    user_folder,
)
from policy_assistant.index.build import PAUSE_ENV

# ---- index folders ------------------------------------------------------------------------------


def damaged_index(damage, ask_codes: tuple[int, ...], build_codes: tuple[int, ...], *words: str):
    """A copy of the shared index, damaged by ``damage(index)``: ``ask``, then ``index build``."""
    def run(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
        index = ctx.copy_index(work / "index")
        (index / "用户说明.txt").write_text("a user's file inside the index folder\n", encoding="utf-8")
        damage(index)
        with guarded(result, index / "用户说明.txt", ctx.corpus):
            expect(result, run_in(result, *ctx.args(index), "ask", "--json", QUESTION), ask_codes, *words)
            expect(result, run_in(result, *ctx.args(index), "index", "build"), build_codes)
        if build_codes == (0,):
            still_answers(result, index, ctx.corpus)
    return run


def _current(index: Path) -> Path:
    return index / json.loads((index / "INDEX.json").read_text(encoding="utf-8"))["current"]


def flip_chunks(index: Path):
    p = _current(index) / "chunks.jsonl"
    p.write_bytes(p.read_bytes().replace("罚款".encode(), "奖励".encode()))


def garbage_pointer(index: Path):
    (index / "INDEX.json").write_bytes(b"\x00garbage")


def manifest_edit(edit):
    def damage(index: Path):
        path = _current(index) / "manifest.json"
        m = json.loads(path.read_text(encoding="utf-8"))
        edit(m)
        path.write_text(json.dumps(m), encoding="utf-8")
    return damage


def docs_as_list(m: dict):
    m["documents"] = list(m["documents"].values())


def path_outside(m: dict):
    m["files"]["../../../../etc/passwd"] = "0" * 64


def version_gone(index: Path):
    shutil.rmtree(_current(index))


def refused_folder(make, *words: str, cwd_is_target: bool = False):
    """``index build`` into a folder that is not an index: exit 2, nothing in it (or beside it) touched."""
    def run(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
        target = make(work)
        with guarded(result, work):
            args = ("--corpus", str(ctx.corpus), "--index-dir", "." if cwd_is_target else str(target))
            expect(result, run_in(result, *args, "index", "build", cwd=target if cwd_is_target else None), (2,),
                    *words)
    return run


def with_feedback_db(work: Path) -> Path:
    folder = work / "data"
    folder.mkdir()
    with sqlite3.connect(folder / "feedback.sqlite3") as con:
        con.execute("CREATE TABLE feedback (id INTEGER)")
        con.execute("INSERT INTO feedback VALUES (1)")
    return folder


def a_file(work: Path) -> Path:
    (work / "index").write_text("not a folder\n", encoding="utf-8")
    return work / "index"


def read_only_index(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    index = ctx.copy_index(work / "index")
    with guarded(result, index), made_read_only(index):
        expect(result, run_in(result, *ctx.args(index), "index", "build", "--full"), (2,), "the current index")
    still_answers(result, index, ctx.corpus)


def read_only_parent(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    parent = user_folder(work / "ro")
    with guarded(result, parent), made_read_only(parent):
        run = run_in(result, *ctx.args(parent / "index"), "index", "build")
    expect(result, run, (2,), "cannot create the index folder")


def _file_size_limit(limit: int):
    """The child cannot grow any file past ``limit`` bytes (EFBIG): a disk that fills up during the build,
    without root or a small file system."""
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def disk_full(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    index = ctx.copy_index(work / "index")
    before = _current(index).name
    with guarded(result, _current(index)):
        run = run_in(result, *ctx.args(index), "index", "build", "--full", preexec_fn=_file_size_limit(4096))
    expect(result, run, (2,), "still in use")
    result.check(_current(index).name == before, "the current version changed")
    result.check(not list(index.glob(".tmp-*")), "a half-written version was left behind")
    still_answers(result, index, ctx.corpus)


def second_build_while_locked(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    index = ctx.copy_index(work / "index")
    first = subprocess.Popen(cli_command(*ctx.args(index), "index", "build", "--full"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=cli_env(**{PAUSE_ENV: "read:0"}), text=True)
    try:
        for line in first.stderr:
            if line.startswith("paused at"):
                break
        expect(result, run_in(result, *ctx.args(index), "index", "build"), (2,), "another index build")
    finally:
        first.kill()
        first.wait()
    expect(result, run_in(result, *ctx.args(index), "index", "build"), (0,))
    still_answers(result, index, ctx.corpus)


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


def _feedbackrun_in(mode: str, db: Path) -> CliRun:
    """The library path the app takes (FeedbackStore), in a child process: only FeedbackError may come out."""
    argv = [sys.executable, "-c", _FEEDBACK_CHILD, mode, str(db)]
    done = subprocess.run(argv, capture_output=True, env=cli_env(), cwd=db.parent.parent)
    return CliRun(argv, done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


def _feedback_db(work: Path) -> Path:
    """A feedback log with one rated answer."""
    db = work / "fb.sqlite3"
    seeded = _feedbackrun_in("seed", db)
    if seeded.returncode != 0:
        raise RuntimeError(seeded.stderr)
    return db


def feedback_child(mode: str, codes: tuple[int, ...], *words: str):
    def run(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
        if mode == "comment-read-only":
            db = _feedback_db(work)
            with guarded(result, db), made_read_only(db):
                done = _feedbackrun_in(mode, db)
        else:
            done = _feedbackrun_in(mode, work / "data" / "fb.sqlite3")
        result.runs.append(done)
        expect(result, done, codes, *words)
    return run


def feedback_cli(setup, args_of, codes: tuple[int, ...], *words: str):
    def run(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
        db, guard, ro = setup(work)
        env = cli_env(POLICY_ASSISTANT_FEEDBACK_DB=str(db))
        with guarded(result, *guard):
            if ro is not None:
                with made_read_only(ro):
                    r = run_in(result, "feedback", *args_of(work), env=env)
            else:
                r = run_in(result, "feedback", *args_of(work), env=env)
        expect(result, r, codes, *words)
    return run


def ro_db(work: Path):
    db = _feedback_db(work)
    return db, [db], db


def ro_export_folder(work: Path):
    db = _feedback_db(work)
    out = work / "ro"
    out.mkdir()
    (out / "feedback.jsonl").write_text("an earlier export\n", encoding="utf-8")
    return db, [db, out], out


def garbage_db(work: Path):
    db = work / "fb.sqlite3"
    db.write_bytes(b"this is not a database\n" * 10)
    return db, [db], None




def index_cases() -> list[Case]:
    """Damaged, foreign, read-only and full index folders, and a second build while one runs."""
    def case(name, run):
        return Case("index", name, run)

    return [
        case("checksum mismatch", damaged_index(flip_chunks, (2,), (0,), "--full")),
        case("garbage INDEX.json", damaged_index(garbage_pointer, (2,), (2,))),
        case("documents is a list", damaged_index(manifest_edit(docs_as_list), (2,), (0,))),
        case("manifest path outside", damaged_index(manifest_edit(path_outside), (2,), (0,), "not inside")),
        case("current version deleted", damaged_index(version_gone, (2,), (0,))),
        case("foreign folder", refused_folder(lambda w: user_folder(w / "mydata"), "notes.txt")),
        case("--index-dir .", refused_folder(lambda w: user_folder(w / "cwd"), cwd_is_target=True)),
        case("folder holding a feedback DB", refused_folder(with_feedback_db, "feedback.sqlite3")),
        case("index path is a file", refused_folder(a_file)),
        case("read-only index folder", read_only_index),
        case("read-only parent", read_only_parent),
        case("disk full (file size limit)", disk_full),
        case("second build while one runs", second_build_while_locked),
    ]


def feedback_cases() -> list[Case]:
    """The feedback log: read-only, deleted while running, exported to a read-only folder, not a database."""
    def case(name, run):
        return Case("feedback", name, run)

    return [
        case("comment on read-only DB", feedback_child("comment-read-only", (2,), "read-only")),
        case("DB deleted while running", feedback_child("deleted", (0,))),
        case("stats on read-only DB", feedback_cli(ro_db, lambda w: ["stats"], (0,))),
        case("export to read-only folder",
             feedback_cli(ro_export_folder, lambda w: ["export", str(w / "ro" / "feedback.jsonl")], (2,))),
        case("stats on a file that is not a DB", feedback_cli(garbage_db, lambda w: ["stats"], (2,))),
    ]
