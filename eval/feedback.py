"""Feedback log: 👍/👎 and comments on answers, kept in SQLite so the eval suite can learn from them.

One row per rated answer: the question (and its rewritten form for follow-ups), the answer text, its
status, the citations and timings as JSON, the rating (``"up"`` / ``"down"``), an optional comment and
the scope the question was asked in. No Streamlit here: the app, the CLI and the eval suite share it.

    store = FeedbackStore(settings.feedback_db)
    row_id = store.record(answer.to_dict(), rating="up")
    store.update(row_id, comment="引用准确")
    store.export_jsonl(Path("feedback.jsonl"))
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from policy_assistant.core.errors import PolicyAssistantError, os_error_fix
from policy_assistant.core.sqlite import SQLiteStore, utc_now
from policy_assistant.core.sqlite import sqlite_error_fix as _sqlite_error_fix

RATINGS = ("up", "down")
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    question TEXT NOT NULL,
    rewritten_question TEXT,
    answer TEXT NOT NULL,
    status TEXT NOT NULL,
    citations TEXT NOT NULL,
    timings TEXT NOT NULL,
    rating TEXT CHECK (rating IS NULL OR rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    scope TEXT NOT NULL DEFAULT '{}',
    answerer TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS feedback_created ON feedback (created_at);
"""

_JSON_COLUMNS = ("citations", "timings", "scope")


class FeedbackError(PolicyAssistantError):
    """The feedback log cannot be opened or written."""


_now = utc_now


def _check_rating(rating: str | None) -> str | None:
    if rating is not None and rating not in RATINGS:
        raise ValueError(f"rating must be one of {RATINGS} or None, not {rating!r}")
    return rating


def sqlite_error_fix(exc: sqlite3.Error, path: Path) -> str:
    """The fix for an SQLite error on the feedback log, by its error code (each names its own remedy)."""
    return _sqlite_error_fix(exc, path, "feedback log", "feedback_db")


class FeedbackStore(SQLiteStore):
    """A small SQLite log. Each call opens its own connection, so it is safe from any thread.

    The schema is created on demand: a log deleted while the app runs is simply started again.
    Every SQLite or file-system failure becomes a :class:`FeedbackError` with the matching fix.
    """

    SCHEMA = _SCHEMA
    SCHEMA_VERSION = SCHEMA_VERSION
    WHAT = "feedback log"
    SETTING = "feedback_db"
    ERROR = FeedbackError

    def record(
        self,
        answer: dict,
        *,
        rating: str | None = None,
        comment: str = "",
        scope: dict | None = None,
    ) -> int:
        """Store one answer (``Answer.to_dict()`` shape) with its rating; returns the row id."""
        _check_rating(rating)
        row = (
            _now(),
            str(answer.get("question", "")),
            answer.get("rewritten_question"),
            str(answer.get("answer", "")),
            str(answer.get("status", "")),
            json.dumps(answer.get("citations", []), ensure_ascii=False),
            json.dumps(answer.get("timings_ms", {}), ensure_ascii=False),
            rating,
            comment or "",
            json.dumps(scope or {}, ensure_ascii=False),
            str(answer.get("answerer", "")),
        )
        sql = ("INSERT INTO feedback (created_at, question, rewritten_question, answer, status, citations,"
               " timings, rating, comment, scope, answerer) VALUES (?,?,?,?,?,?,?,?,?,?,?)")
        return self._run(lambda con: int(con.execute(sql, row).lastrowid), "write to")

    def update(self, row_id: int, *, rating: str | None = None, comment: str | None = None) -> bool:
        """Change the rating and/or the comment of a stored row (``None`` leaves a field unchanged).

        Returns ``False`` when there is no such row (e.g. the log was deleted and started again)."""
        _check_rating(rating)
        sets, values = [], []
        if rating is not None:
            sets.append("rating = ?")
            values.append(rating)
        if comment is not None:
            sets.append("comment = ?")
            values.append(comment)
        if not sets:
            return self.get(row_id) is not None
        sql = f"UPDATE feedback SET {', '.join(sets)} WHERE id = ?"
        return self._run(lambda con: con.execute(sql, (*values, row_id)).rowcount > 0, "write to")

    @staticmethod
    def _decode(r: sqlite3.Row) -> dict:
        d = dict(r)
        for col in _JSON_COLUMNS:
            d[col] = json.loads(d[col]) if d[col] else ([] if col == "citations" else {})
        return d

    def rows(self, limit: int | None = None) -> list[dict]:
        """All rows, oldest first, with the JSON columns decoded."""
        sql = "SELECT * FROM feedback ORDER BY id"
        params: tuple = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (int(limit),)
        return self._run(lambda con: [self._decode(r) for r in con.execute(sql, params)], "read")

    def get(self, row_id: int) -> dict | None:
        """One row by id (``None`` when there is no such row)."""
        r = self._run(lambda con: con.execute("SELECT * FROM feedback WHERE id = ?", (row_id,)).fetchone(), "read")
        return self._decode(r) if r else None

    def count(self) -> int:
        """Number of rows."""
        return self._run(lambda con: int(con.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]), "read")

    def export_jsonl(self, path: Path | str) -> int:
        """Write every row as one JSON object per line (UTF-8); returns the number of rows written.

        The objects carry ``question``, ``status``, ``answer``, ``citations``, ``timings_ms``,
        ``rating``, ``comment`` … so the eval suite can turn 👎 rows into regression questions.
        """
        path = Path(path)
        rows = self.rows()
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        created = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("x", encoding="utf-8") as fh:
                created = True
                for r in rows:
                    fh.write(json.dumps(export_row(r), ensure_ascii=False) + "\n")
            tmp.replace(path)
        except OSError as exc:
            if created:  # only the temporary file this call made; an existing export stays as it was
                tmp.unlink(missing_ok=True)
            raise FeedbackError(f"cannot write the feedback export {path}: {exc.strerror or exc}",
                                os_error_fix(exc, f"the folder {path.parent}")) from exc
        return len(rows)


def export_row(row: dict) -> dict:
    """A stored row in the export shape (``timings`` is called ``timings_ms``, as in ``Answer.to_dict()``)."""
    out = dict(row)
    out["timings_ms"] = out.pop("timings")
    return out
