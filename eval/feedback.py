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
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from policy_assistant.core.errors import PolicyAssistantError

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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _check_rating(rating: str | None) -> str | None:
    if rating is not None and rating not in RATINGS:
        raise ValueError(f"rating must be one of {RATINGS} or None, not {rating!r}")
    return rating


class FeedbackStore:
    """A small SQLite log. Each call opens its own connection, so it is safe from any thread."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.executescript(_SCHEMA)
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except (OSError, sqlite3.Error) as exc:
            raise FeedbackError(
                f"cannot open the feedback log {self.path}: {exc}",
                "check that the data folder is writable, or set feedback_db in policy-assistant.toml",
            ) from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=10)
        con.row_factory = sqlite3.Row
        try:
            with con:  # commit on success, roll back on error
                yield con
        finally:
            con.close()

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
        try:
            with self._connect() as con:
                cur = con.execute(
                    "INSERT INTO feedback (created_at, question, rewritten_question, answer, status, citations,"
                    " timings, rating, comment, scope, answerer) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    row,
                )
                return int(cur.lastrowid)
        except sqlite3.Error as exc:
            raise FeedbackError(f"cannot write to the feedback log {self.path}: {exc}",
                                "check that the data folder is writable") from exc

    def update(self, row_id: int, *, rating: str | None = None, comment: str | None = None) -> None:
        """Change the rating and/or the comment of a stored row (``None`` leaves a field unchanged)."""
        _check_rating(rating)
        sets, values = [], []
        if rating is not None:
            sets.append("rating = ?")
            values.append(rating)
        if comment is not None:
            sets.append("comment = ?")
            values.append(comment)
        if not sets:
            return
        with self._connect() as con:
            con.execute(f"UPDATE feedback SET {', '.join(sets)} WHERE id = ?", (*values, row_id))

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
        with self._connect() as con:
            return [self._decode(r) for r in con.execute(sql, params)]

    def get(self, row_id: int) -> dict | None:
        with self._connect() as con:
            r = con.execute("SELECT * FROM feedback WHERE id = ?", (row_id,)).fetchone()
            return self._decode(r) if r else None

    def count(self) -> int:
        with self._connect() as con:
            return int(con.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def export_jsonl(self, path: Path | str) -> int:
        """Write every row as one JSON object per line (UTF-8); returns the number of rows written.

        The objects carry ``question``, ``status``, ``answer``, ``citations``, ``timings_ms``,
        ``rating``, ``comment`` … so the eval suite can turn 👎 rows into regression questions.
        """
        path = Path(path)
        rows = self.rows()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for r in rows:
                r["timings_ms"] = r.pop("timings")
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        tmp.replace(path)
        return len(rows)
