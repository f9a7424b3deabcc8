"""Managing the document set from the app (文件管理): preview, accept, replace, disable/enable, delete.

Each change is one step under a lock (``<uploads_dir>/.manage.lock``; a second administrator waits
``lock_wait`` seconds or is told who holds it): the file goes into the managed uploads folder, the
registry records status and version, an audit row records who did what, and an incremental index build
(``index/build.py``) makes a new index version current. Readers keep answering from the last good version
until the new one is swapped in atomically; a build that fails or is killed leaves that version serving
and the change can be retried (:meth:`DocumentManager.update_index`, or the same upload again).

The configured corpus folders are never written: their documents can be disabled or replaced (status in
the registry), only uploads can be deleted.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from policy_assistant.core.errors import (
    DocumentsBusyError,
    IndexLockedError,
    IndexMissingError,
    PolicyAssistantError,
    UploadError,
    os_error_fix,
)
from policy_assistant.corpus.registry import (
    ACTIVE,
    DELETED,
    DISABLED,
    ORIGIN_CORPUS,
    ORIGIN_UPLOAD,
    SUPERSEDED,
    DocumentRegistry,
    RegisteredDocument,
)
from policy_assistant.corpus.uploads import (
    UploadPreview,
    discard_staged,
    managed_folder,
    preview_upload,
    safe_name,
)
from policy_assistant.index import store
from policy_assistant.index.build import BuildReport, build_index
from policy_assistant.index.lock import BuildLock

LOCK_NAME = ".manage.lock"


# ---- results ------------------------------------------------------------------------------------


@dataclass
class UpdateResult:
    """What one change did."""

    action: str
    doc_ids: list[str]
    report: BuildReport | None = None
    notes: list[str] = field(default_factory=list)


def _who(who: str) -> str:
    who = re.sub(r"[\x00-\x1f\x7f]", "", str(who or "")).strip()[:60]
    if not who:
        raise UploadError("没有填写操作人", "在文件管理页登录时填写姓名（记录在操作日志中）")
    return who


class DocumentManager:
    """The library behind the 文件管理 page (no Streamlit): every change is audited and indexed.

    ``embedder`` / ``tokenizer_factory`` replace the configured ones (tests); ``lock_wait`` is how long a
    second administrator waits for the first one's change before being told.
    """

    def __init__(self, settings, *, embedder=None, tokenizer_factory=None, lock_wait: float = 0.0):
        self.settings = settings
        self.uploads = Path(settings.uploads_dir)
        self.embedder = embedder
        self.tokenizer_factory = tokenizer_factory
        self.lock_wait = lock_wait
        self.max_bytes = int(float(settings.upload_max_mb) * 2**20)

    @property
    def registry(self) -> DocumentRegistry:
        return DocumentRegistry(self.settings.documents_db)

    # ---- what is there -----------------------------------------------------------------------

    def indexed_documents(self) -> list[dict]:
        """``documents.json`` of the current index version ([] when there is no index yet)."""
        try:
            return store.read_current(self.settings.index_dir,
                                      lambda v: json.loads((v / store.DOCUMENTS).read_text(encoding="utf-8")))
        except IndexMissingError:
            return []

    def _manifest(self) -> dict:
        try:
            return store.read_manifest(self.settings.index_dir)
        except IndexMissingError:
            return {}

    def documents(self) -> list[dict]:
        """Every document: the index's (with status, dates, chunks, warnings) plus registered uploads the
        index does not hold yet (``indexed`` False: an update that did not finish)."""
        rows = {r.doc_id: r for r in self.registry.rows()}
        out = []
        for d in self.indexed_documents():
            reg = rows.get(d["doc_id"])
            out.append({**d, "origin": reg.origin if reg else ORIGIN_CORPUS, "indexed": True,
                        "added_at": reg.added_at if reg else "", "added_by": reg.added_by if reg else "",
                        "registry_status": reg.status if reg else ACTIVE})
        seen = {d["doc_id"] for d in out}
        for r in rows.values():
            if r.doc_id not in seen and r.origin == ORIGIN_UPLOAD and r.status != DELETED:
                out.append({"doc_id": r.doc_id, "title": r.title, "doc_type": r.doc_type, "dates": r.dates,
                            "file": r.file, "status": r.status, "n_chunks": 0, "warnings": [], "origin": r.origin,
                            "indexed": False, "added_at": r.added_at, "added_by": r.added_by,
                            "registry_status": r.status})
        order = {ACTIVE: 0, SUPERSEDED: 1, DISABLED: 2}
        return sorted(out, key=lambda d: (order.get(d.get("status"), 3), d.get("doc_type", ""), d.get("title", "")))

    def audit(self, limit: int = 500) -> list[dict]:
        return self.registry.audit(limit)

    # ---- preview ------------------------------------------------------------------------------

    def preview(self, name: str, data: bytes) -> UploadPreview:
        """Check and read an uploaded file; a duplicate of a document already present (same bytes or
        the same text) is refused with the title of that document."""
        pv = preview_upload(self.uploads, name, data, max_bytes=self.max_bytes,
                            max_chars=self.settings.chunk_max_chars, overlap=self.settings.chunk_overlap_chars)
        if pv.ok:
            dup = self._duplicate_of(pv)
            if dup:
                discard_staged(pv.staged)
                pv.staged, pv.duplicate_of = "", dup[0]
                pv.error = f"{pv.name}：与已有文件《{dup[1]}》内容相同，无需重复上传"
                pv.fix = "要更新这份文件，请在文件列表中用“替换为新版本”上传修订后的文件"
        return pv

    def _duplicate_of(self, pv: UploadPreview) -> tuple[str, str] | None:
        """(doc_id, title) of an indexed document with the same file bytes or the same text."""
        manifest = self._manifest()
        docs = manifest.get("documents") or {}
        for rec in (manifest.get("sources") or {}).values():
            doc_id = rec.get("doc_id") or rec.get("duplicate_of")
            if rec.get("sha256") == pv.sha256 and doc_id in docs:
                return doc_id, docs[doc_id].get("title", doc_id)
        for doc_id, d in docs.items():
            if pv.content_hash and d.get("content_hash") == pv.content_hash:
                return doc_id, d.get("title", doc_id)
        return None

    def _resumable(self, pv: UploadPreview) -> RegisteredDocument | None:
        """A registered upload with these bytes whose file is in place but which the index does not
        hold: the previous attempt stopped before its index update finished."""
        row = self.registry.by_sha256(pv.sha256)
        if row and row.origin == ORIGIN_UPLOAD and (self.uploads / row.file).is_file():
            if row.doc_id not in {d["doc_id"] for d in self.indexed_documents()}:
                return row
        return None

    # ---- changes ------------------------------------------------------------------------------

    def _lock(self, who: str) -> BuildLock:
        managed_folder(self.uploads)
        return BuildLock(self.uploads, wait=self.lock_wait, path=self.uploads / LOCK_NAME, owner=who)

    def _locked(self, who: str, action: str, change: Callable[[], tuple[list[str], list[str]]],
                progress, audit: Callable[[str], None]) -> UpdateResult:
        """Run ``change`` (returns doc_ids, notes) and the index update under the lock; audit the outcome."""
        lock = self._lock(who)
        try:
            lock.acquire()
        except IndexLockedError as exc:
            raise DocumentsBusyError(f"另一位管理员正在更新文件（{lock.holder()}）",
                                     "请等这次更新完成后再试（完成后锁会自动释放）") from exc
        try:
            doc_ids, notes = change()
            try:
                report = build_index(self.settings, progress=progress, embedder=self.embedder,
                                     tokenizer_factory=self.tokenizer_factory, lock_wait=600)
            except PolicyAssistantError as exc:
                audit(f"failed: {exc}")
                raise type(exc)(f"索引更新失败：{exc.message}（文件已保存；原来的索引仍在使用）",
                                (exc.fix or "") + "；之后在文件管理页点“更新索引”重试") from exc
            audit("ok")
            return UpdateResult(action, doc_ids, report, notes)
        finally:
            lock.release()

    def _place(self, pv: UploadPreview) -> tuple[str, str]:
        """Move a staged upload into the uploads folder under a name no document uses; (doc_id, file)."""
        if not pv.staged or not Path(pv.staged).is_file():
            raise UploadError(f"{pv.name}：上传的文件已过期或已被处理", "重新选择文件上传")
        taken = {d["doc_id"] for d in self.indexed_documents()} | {r.doc_id for r in self.registry.rows()}
        taken |= {p.stem for d in self.settings.corpus_dirs if Path(d).is_dir() for p in Path(d).iterdir()}
        stem, suffix = os.path.splitext(safe_name(pv.name))
        doc_id, n = stem, 2
        while doc_id in taken or (self.uploads / f"{doc_id}{suffix}").exists():
            doc_id, n = f"{stem}-{n}", n + 1
        target = self.uploads / f"{doc_id}{suffix}"
        try:
            os.link(pv.staged, target)  # fails instead of overwriting
            discard_staged(pv.staged)
        except OSError as exc:
            raise UploadError(f"{pv.name}：无法保存到 {self.uploads}（{exc.strerror}）",
                              os_error_fix(exc, f"the folder {self.uploads}")) from exc
        return doc_id, target.name

    def accept(self, previews: list[UploadPreview], who: str, progress=None, *,
               replaces: str | None = None) -> UpdateResult:
        """Add the previewed files (``replaces``: the one file is a new version of that document) and
        update the index once."""
        who = _who(who)
        good = [pv for pv in previews if pv.ok]
        if not good:
            raise UploadError("没有可以接受的文件", "先上传并预览文件；有错误的文件不会被接受")
        if replaces is not None and len(good) != 1:
            raise UploadError("替换时只能上传一个新版本文件", "一次选择一个文件")
        placed: list[tuple[str, UploadPreview]] = []
        action = "replace" if replaces else "upload"

        def change():
            notes = []
            old = self._check_replaceable(replaces) if replaces else None
            resumes = {id(pv): self._resumable(pv) for pv in good}
            for pv in good:  # checked again under the lock: another administrator may have added it
                dup = None if resumes[id(pv)] else self._duplicate_of(pv)
                if dup:
                    raise UploadError(f"{pv.name}：与已有文件《{dup[1]}》内容相同，无需重复上传",
                                      "要更新这份文件，请用“替换为新版本”")
            for pv in good:
                resume = resumes[id(pv)]
                if resume is not None:
                    discard_staged(pv.staged)
                    placed.append((resume.doc_id, pv))
                    notes.append(f"《{resume.title}》上次的索引更新没有完成，这次继续")
                    continue
                doc_id, file = self._place(pv)
                self.registry.add_upload(RegisteredDocument(
                    doc_id=doc_id, origin=ORIGIN_UPLOAD, file=file, original_name=pv.name, sha256=pv.sha256,
                    title=pv.title, doc_type=pv.doc_type, dates=pv.dates), who, supersede=replaces)
                placed.append((doc_id, pv))
                if old is not None:
                    notes.append(f"《{old['title']}》已标记为已废止/旧版")
            return [d for d, _ in placed], notes

        def audit(outcome: str):
            for doc_id, pv in placed:
                detail = f"{pv.title}（{pv.doc_type}，{pv.n_chunks} 段）"
                if replaces:
                    detail += f"；替换 {replaces}（旧版保留，状态改为已废止/旧版）"
                self.registry.log(who, action, doc_id=doc_id, title=pv.title, file=pv.name, sha256=pv.sha256,
                                  detail=detail, outcome=outcome)

        return self._locked(who, action, change, progress, audit)

    def _check_replaceable(self, doc_id: str) -> dict:
        doc = next((d for d in self.indexed_documents() if d["doc_id"] == doc_id), None)
        if doc is None:
            raise UploadError(f"没有找到要替换的文件 {doc_id}", "刷新文件列表后再试")
        if doc.get("status", ACTIVE) == SUPERSEDED:
            raise UploadError(f"《{doc['title']}》已经是旧版", "替换它的最新版本")
        return doc

    def _document(self, doc_id: str) -> dict:
        doc = next((d for d in self.documents() if d["doc_id"] == doc_id), None)
        if doc is None:
            raise UploadError(f"没有找到文件 {doc_id}", "刷新文件列表后再试")
        return doc

    def set_status(self, doc_id: str, status: str, who: str, progress=None) -> UpdateResult:
        """Disable (``disabled``) or enable (``active``) a document — an upload or one in a corpus folder."""
        who = _who(who)
        if status not in (ACTIVE, DISABLED):
            raise ValueError("status must be 'active' or 'disabled'")
        doc = self._document(doc_id)
        old: list[str] = []

        def change():
            old.append(self.registry.set_status(doc_id, status, who, title=doc.get("title", ""),
                                                doc_type=doc.get("doc_type", ""), file=doc.get("file", ""))
                       or doc.get("status", ACTIVE))
            return [doc_id], []

        def audit(outcome: str):
            self.registry.log(who, "enable" if status == ACTIVE else "disable", doc_id=doc_id,
                              title=doc.get("title", ""), file=doc.get("file", ""),
                              detail=f"{old[0] if old else '?'} → {status}", outcome=outcome)

        return self._locked(who, "enable" if status == ACTIVE else "disable", change, progress, audit)

    def delete(self, doc_id: str, who: str, progress=None) -> UpdateResult:
        """Delete an uploaded document (its file in the uploads folder; the registry keeps the row and
        the audit log the event). Documents of the corpus folders cannot be deleted here."""
        who = _who(who)
        doc = self._document(doc_id)
        row = self.registry.get(doc_id)
        if row is None or row.origin != ORIGIN_UPLOAD:
            raise UploadError(f"《{doc.get('title', doc_id)}》在配置的文件夹中，文件管理页不能删除它（这些文件夹只读）",
                              "改为“停用”，或由管理员从文件夹中移走该文件")
        sha = []

        def change():
            path = self.uploads / row.file
            if path.parent == self.uploads and path.is_file():  # only a file this app placed
                from policy_assistant.corpus.model import sha256_file

                sha.append(sha256_file(path))
                path.unlink()
            self.registry.set_status(doc_id, DELETED, who, origin=ORIGIN_UPLOAD)
            return [doc_id], []

        def audit(outcome: str):
            self.registry.log(who, "delete", doc_id=doc_id, title=doc.get("title", ""), file=row.file,
                              sha256=sha[0] if sha else row.sha256, detail=f"{doc.get('status', ACTIVE)} → deleted",
                              outcome=outcome)

        return self._locked(who, "delete", change, progress, audit)

    def update_index(self, who: str, progress=None) -> UpdateResult:
        """Bring the index up to date with the folders and the registry (retry after an interrupted
        update)."""
        who = _who(who)

        def audit(outcome: str):
            self.registry.log(who, "update", detail="更新索引", outcome=outcome)

        return self._locked(who, "update", lambda: ([], []), progress, audit)
