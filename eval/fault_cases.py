"""The cases of the fault matrix (issue 10), by group: bad questions, bad batch files, bad corpus files, damaged
index folders and feedback-log faults (``eval/fault_storage.py``), killed builds, concurrent build + readers.
Each runs the real command line.

Every case states what the tool must do (usually: exit status 2 and one ``error:`` line naming the fix), and
plants the files it guards: a planted file that is missing or changed afterwards counts as data lost.
"""

from __future__ import annotations

import json
from pathlib import Path

from policy_assistant.eval import fault_storage as storage
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
    MatrixContext,
    expect,
    guarded,
    run_in,
    write_tiny_corpus,
)

# ---- bad questions ------------------------------------------------------------------------------


def _ask_case(question: bytes | str, codes: tuple[int, ...], *words: str):
    def run(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
        with guarded(result, ctx.index):
            expect(result, run_in(result, *ctx.args(), "ask", question), codes, *words)
    return run


def _stdin_batch(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    data = b"\xff\xfe \xe7\x8e\xaf\xe5\xa2\x83\n" + QUESTION.encode() + b"\n"
    with guarded(result, ctx.index):
        run = run_in(result, *ctx.args(), "ask", "--json", "--batch", "-", stdin=data)
    expect(result, run, (2,), "line 1")
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
        with guarded(result, ctx.index, path):
            r = run_in(result, *ctx.args(), "ask", "--json", "--batch", str(path))
        expect(result, r, codes, *words)
        got = r.stdout.count('"answered"')
        result.check(answered is None or got == answered, f"{got} answered, expected {answered}")
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
        with guarded(result, corpus):
            show = run_in(result, "--corpus", str(corpus), *[a for p in extra for a in ("--corpus", str(p))],
                        "--index-dir", str(work / "index"), "corpus", "show")
            expect(result, show, codes, *words)
            result.check(all(w in show.stdout + show.stderr for w in words),
                         f"no mention of {words}")
            if build:
                b = run_in(result, "--corpus", str(corpus), "--index-dir", str(work / "index"), "index", "build")
                expect(result, b, codes)
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
    with guarded(result, corpus):
        expect(result, run_in(result, "--corpus", str(corpus), "--index-dir", str(work / "index"), "index", "build"),
                (2,), "no document")


def _corpus_is_a_loop(ctx: MatrixContext, work: Path, result: CaseResult) -> None:
    (work / "loop").symlink_to(work / "loop")
    expect(result, run_in(result, "--corpus", str(work / "loop"), "--index-dir", str(work / "index"), "corpus",
                         "show"), (2,))


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
        Case("question", "1 MB line in a batch file", _batch_case(("罚款" * 170_000 + "\n").encode(), (0, 2),
                                                                   None)),
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
    ]
    cases += storage.index_cases()
    cases += [Case("kill -9", f"at {stage}", _kill_case(stage), quick=stage in ("write:0", "commit:1"))
              for stage in KILL_STAGES]
    cases.append(Case("concurrency", "build + readers", _concurrency))
    cases += storage.feedback_cases()
    return cases

