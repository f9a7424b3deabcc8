"""Conversations that survive a refresh: the chat's turns in SQLite, per browser (no Streamlit here).

A browser is known by a random token — the ``pa_browser`` cookie that ``policy-assistant app`` sets
(``app_pages/server.py``), or, where there is no cookie (plain ``streamlit run``), a ``u`` query parameter
the page keeps in the URL. A conversation is a random id in the URL (``?c=…``): reloading the page
opens it again, and the sidebar lists the browser's earlier conversations (open, rename, delete).
Ids are 128-bit random tokens; a browser lists only its own conversations.

    store = ConversationStore(settings.conversations_db)
    store.save(conv_id, owner, turns)          # title = the first question unless renamed
    store.list(owner)                          # newest first
"""

from __future__ import annotations

import json
import re
import secrets

from policy_assistant.core.errors import RegistryError
from policy_assistant.core.sqlite import SQLiteStore, utc_now

TOKEN_RE = re.compile(r"[0-9a-f]{32}")
TITLE_CHARS = 40

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    renamed INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    n_turns INTEGER NOT NULL DEFAULT 0,
    turns TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations (owner, updated_at);
"""


def new_token() -> str:
    """A fresh random id (conversation or browser)."""
    return secrets.token_hex(16)


def valid_token(value) -> bool:
    return isinstance(value, str) and bool(TOKEN_RE.fullmatch(value))


def default_title(turns: list[dict]) -> str:
    first = next((t.get("question", "") for t in turns if t.get("question")), "") or "新对话"
    first = " ".join(str(first).split())
    return first if len(first) <= TITLE_CHARS else first[:TITLE_CHARS - 1] + "…"


class ConversationStore(SQLiteStore):
    """Conversations by id, listed per browser token; safe from any thread."""

    SCHEMA = _SCHEMA
    WHAT = "conversation store"
    SETTING = "conversations_db"
    ERROR = RegistryError

    def save(self, conv_id: str, owner: str, turns: list[dict]) -> None:
        """Store the conversation's turns (creating it); its title follows the first question unless renamed."""
        now = utc_now()
        data = json.dumps(turns, ensure_ascii=False, default=str)
        title = default_title(turns)
        self._run(lambda con: con.execute(
            "INSERT INTO conversations (id, owner, title, created_at, updated_at, n_turns, turns)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at,"
            " n_turns = excluded.n_turns, turns = excluded.turns,"
            " title = CASE WHEN renamed THEN title ELSE excluded.title END",
            (conv_id, owner, title, now, now, len(turns), data)), "write to")

    def load(self, conv_id: str) -> dict | None:
        """``{id, owner, title, created_at, updated_at, turns}`` or None."""
        row = self._run(lambda con: con.execute("SELECT * FROM conversations WHERE id = ?", (conv_id,)).fetchone(),
                        "read")
        if row is None:
            return None
        out = dict(row)
        try:
            out["turns"] = json.loads(out["turns"])
        except ValueError:
            out["turns"] = []
        return out

    def list(self, owner: str, limit: int = 50) -> list[dict]:
        """The owner's conversations with at least one turn, newest first (without the turns)."""
        rows = self._run(lambda con: con.execute(
            "SELECT id, title, created_at, updated_at, n_turns FROM conversations WHERE owner = ? AND n_turns > 0"
            " ORDER BY updated_at DESC, rowid DESC LIMIT ?", (owner, int(limit))).fetchall(), "read")
        return [dict(r) for r in rows]

    def rename(self, conv_id: str, owner: str, title: str) -> bool:
        title = " ".join(str(title or "").split())[:80]
        if not title:
            return False
        return bool(self._run(lambda con: con.execute(
            "UPDATE conversations SET title = ?, renamed = 1 WHERE id = ? AND owner = ?",
            (title, conv_id, owner)).rowcount, "write to"))

    def delete(self, conv_id: str, owner: str) -> bool:
        return bool(self._run(lambda con: con.execute(
            "DELETE FROM conversations WHERE id = ? AND owner = ?", (conv_id, owner)).rowcount, "write to"))
