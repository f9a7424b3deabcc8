"""The document registry: status and versions of every managed document, and the audit log (SQLite).

The index build reads it (``statuses``) and records each document's status in the index, so retrieval
can leave superseded and disabled documents out. Documents in the configured corpus folders get a row
only when an administrator changes their status (the folders themselves stay read-only); uploads get
one when they are accepted. Deleted uploads keep their row (status ``deleted``) so the audit log can
still name them.

    reg = DocumentRegistry(settings.documents_db)
    reg.statuses()                      # {"排污许可管理条例": "superseded", …} (rows only; default active)
    reg.log("张三", "disable", doc_id="…", detail="active → disabled")
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from policy_assistant.core.errors import RegistryError
from policy_assistant.core.sqlite import SQLiteStore, utc_now

ACTIVE, SUPERSEDED, DISABLED, DELETED = "active", "superseded", "disabled", "deleted"
STATUSES = (ACTIVE, SUPERSEDED, DISABLED, DELETED)
STATUS_LABELS_ZH = {ACTIVE: "有效", SUPERSEDED: "已废止/旧版", DISABLED: "已停用", DELETED: "已删除"}
ORIGIN_UPLOAD, ORIGIN_CORPUS = "upload", "corpus"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    origin TEXT NOT NULL CHECK (origin IN ('upload', 'corpus')),
    file TEXT NOT NULL DEFAULT '',
    original_name TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    doc_type TEXT NOT NULL DEFAULT '',
    dates TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'superseded', 'disabled', 'deleted')),
    replaces TEXT,
    superseded_by TEXT,
    added_at TEXT NOT NULL,
    added_by TEXT NOT NULL DEFAULT '',
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS documents_sha ON documents (sha256);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    doc_id TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    file TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT 'ok'
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
"""


@dataclass
class RegisteredDocument:
    """One row of the registry."""

    doc_id: str
    origin: str
    file: str = ""
    original_name: str = ""
    sha256: str = ""
    title: str = ""
    doc_type: str = ""
    dates: dict = field(default_factory=dict)
    status: str = ACTIVE
    replaces: str | None = None
    superseded_by: str | None = None
    added_at: str = ""
    added_by: str = ""
    changed_at: str = ""
    changed_by: str = ""

    @classmethod
    def from_row(cls, row) -> RegisteredDocument:
        d = dict(row)
        try:
            d["dates"] = json.loads(d.get("dates") or "{}")
        except ValueError:
            d["dates"] = {}
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


class DocumentRegistry(SQLiteStore):
    """Status and versions of managed documents plus the audit log; safe from any thread or process."""

    SCHEMA = _SCHEMA
    WHAT = "document registry"
    SETTING = "documents_db"
    ERROR = RegistryError

    # ---- reading -------------------------------------------------------------------------------

    def get(self, doc_id: str) -> RegisteredDocument | None:
        row = self._run(lambda con: con.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone(),
                        "read")
        return RegisteredDocument.from_row(row) if row else None

    def rows(self) -> list[RegisteredDocument]:
        rows = self._run(lambda con: con.execute("SELECT * FROM documents ORDER BY added_at, doc_id").fetchall(),
                         "read")
        return [RegisteredDocument.from_row(r) for r in rows]

    def by_sha256(self, sha256: str) -> RegisteredDocument | None:
        """The document (not deleted) whose uploaded file had these bytes."""
        row = self._run(lambda con: con.execute(
            "SELECT * FROM documents WHERE sha256 = ? AND status != 'deleted' ORDER BY added_at DESC",
            (sha256,)).fetchone(), "read")
        return RegisteredDocument.from_row(row) if row else None

    def statuses(self) -> dict[str, str]:
        """``doc_id → status`` of every registered document (documents without a row are active)."""
        return {r.doc_id: r.status for r in self.rows()}

    def audit(self, limit: int = 500) -> list[dict]:
        """The newest ``limit`` audit entries, newest first."""
        rows = self._run(lambda con: con.execute("SELECT * FROM audit ORDER BY id DESC LIMIT ?",
                                                 (int(limit),)).fetchall(), "read")
        return [dict(r) for r in rows]

    # ---- writing -------------------------------------------------------------------------------

    def add_upload(self, doc: RegisteredDocument, who: str, *, supersede: str | None = None) -> None:
        """Register an accepted upload as active; with ``supersede`` the older version becomes
        superseded by it in the same transaction."""
        now = utc_now()

        def op(con):
            con.execute(
                "INSERT OR REPLACE INTO documents (doc_id, origin, file, original_name, sha256, title, doc_type,"
                " dates, status, replaces, superseded_by, added_at, added_by, changed_at, changed_by)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,NULL,?,?,?,?)",
                (doc.doc_id, ORIGIN_UPLOAD, doc.file, doc.original_name, doc.sha256, doc.title, doc.doc_type,
                 json.dumps(doc.dates, ensure_ascii=False), ACTIVE, supersede, now, who, now, who))
            if supersede:
                _upsert_status(con, supersede, SUPERSEDED, who, now, superseded_by=doc.doc_id)

        self._run(op, "write to")

    def set_status(self, doc_id: str, status: str, who: str, *, title: str = "", doc_type: str = "",
                   file: str = "", origin: str = ORIGIN_CORPUS) -> str | None:
        """Set one document's status (creating the row of a corpus-folder document); returns the old one."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        now = utc_now()

        def op(con):
            row = con.execute("SELECT status FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
            if row is None:
                con.execute(
                    "INSERT INTO documents (doc_id, origin, file, title, doc_type, status, added_at, added_by,"
                    " changed_at, changed_by) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (doc_id, origin, file, title, doc_type, status, now, who, now, who))
                return None
            _upsert_status(con, doc_id, status, who, now)
            return row["status"]

        return self._run(op, "write to")

    def log(self, who: str, action: str, *, doc_id: str = "", title: str = "", file: str = "",
            sha256: str = "", detail: str = "", outcome: str = "ok") -> int:
        """Append one audit entry (who, when, what, the file's hash, what changed, how it ended)."""
        row = (utc_now(), who, action, doc_id, title, file, sha256, detail, outcome)
        return self._run(lambda con: int(con.execute(
            "INSERT INTO audit (at, who, action, doc_id, title, file, sha256, detail, outcome)"
            " VALUES (?,?,?,?,?,?,?,?,?)", row).lastrowid), "write to")


def _upsert_status(con, doc_id: str, status: str, who: str, now: str, superseded_by: str | None = None) -> None:
    updated = con.execute(
        "UPDATE documents SET status = ?, superseded_by = COALESCE(?, superseded_by), changed_at = ?,"
        " changed_by = ? WHERE doc_id = ?", (status, superseded_by, now, who, doc_id)).rowcount
    if not updated:
        con.execute(
            "INSERT INTO documents (doc_id, origin, status, superseded_by, added_at, added_by, changed_at,"
            " changed_by) VALUES (?,?,?,?,?,?,?,?)",
            (doc_id, ORIGIN_CORPUS, status, superseded_by, now, who, now, who))


def read_registry(path: Path | str | None) -> dict[str, RegisteredDocument]:
    """The registry's rows by doc_id, without creating a registry file where there is none ({} then)."""
    if not path or not Path(path).is_file():
        return {}
    return {r.doc_id: r for r in DocumentRegistry(path).rows()}


def read_statuses(path: Path | str | None) -> dict[str, str]:
    """``doc_id → status`` from :func:`read_registry` (documents without a row are active)."""
    return {doc_id: r.status for doc_id, r in read_registry(path).items()}


def version_info(row: RegisteredDocument | None) -> dict:
    """What the index records about a document's status: status, and the versions before/after it."""
    if row is None:
        return {"status": ACTIVE}
    info = {"status": row.status if row.status != DELETED else ACTIVE}
    if row.replaces:
        info["replaces"] = row.replaces
    if row.superseded_by:
        info["superseded_by"] = row.superseded_by
    if row.status != ACTIVE:
        info["status_changed_at"] = row.changed_at
    return info
