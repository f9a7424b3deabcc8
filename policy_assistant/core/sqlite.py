"""Small SQLite stores (feedback log, document registry, conversations) share one way of opening files.

Each call opens its own connection (safe from any thread), the schema is created on demand (a file
deleted while the app runs is simply started again) and every SQLite or file-system failure becomes the
store's domain error with the fix that matches its error code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from policy_assistant.core.errors import PolicyAssistantError, os_error_fix

T = TypeVar("T")


def utc_now() -> str:
    """The current UTC time as an ISO string (seconds), the timestamp format of every store."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def sqlite_error_fix(exc: sqlite3.Error, path: Path, what: str, setting: str) -> str:
    """The fix for an SQLite error on ``path`` by its error code; ``setting`` names the config key."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    where = f"set {setting} in policy-assistant.toml (or POLICY_ASSISTANT_{setting.upper()}) to a writable file"
    if name.startswith("SQLITE_READONLY"):
        return f"the {what} {path} is read-only: make it and its folder writable, or {where}"
    if name.startswith("SQLITE_FULL"):
        return "free disk space and try again"
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return f"{path} is not a readable {what} (damaged or another file): move it away, or {where}"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return f"another program holds the {what} locked: try again in a moment"
    if name.startswith("SQLITE_CANTOPEN"):
        return f"check that the folder {path.parent} exists and is writable, or {where}"
    return f"check that {path} and its folder are writable, or {where}"


class SQLiteStore:
    """Base of the project's SQLite files. Subclasses set ``SCHEMA``, ``SCHEMA_VERSION``, ``WHAT`` (words
    for messages), ``SETTING`` (the config key of the path) and ``ERROR`` (the domain exception class)."""

    SCHEMA = ""
    SCHEMA_VERSION = 1
    WHAT = "database"
    SETTING = "data_dir"
    ERROR: type[PolicyAssistantError] = PolicyAssistantError

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._run(lambda con: None, "open")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=10)
        con.row_factory = sqlite3.Row
        try:
            with con:  # commit on success, roll back on error
                yield con
        finally:
            con.close()

    def _create_schema(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(self.SCHEMA)
            con.execute(f"PRAGMA user_version = {int(self.SCHEMA_VERSION)}")

    def _run(self, op: Callable[[sqlite3.Connection], T], action: str) -> T:
        """``op(connection)`` in one transaction; creates the file (folder, tables) when it is missing
        and retries once."""
        for attempt in (1, 2):
            try:
                if attempt == 2 or not self.path.is_file():
                    self._create_schema()
                with self._connect() as con:
                    return op(con)
            except sqlite3.OperationalError as exc:
                if attempt == 1 and ("no such table" in str(exc) or not self.path.is_file()):
                    continue  # deleted or emptied while we ran: start the file again
                raise self._error(exc, action) from exc
            except sqlite3.Error as exc:
                raise self._error(exc, action) from exc
            except OSError as exc:
                raise self.ERROR(f"cannot {action} the {self.WHAT} {self.path}: {exc.strerror or exc}",
                                 os_error_fix(exc, f"the folder {self.path.parent}")) from exc
        raise AssertionError("unreachable")

    def _error(self, exc: sqlite3.Error, action: str) -> PolicyAssistantError:
        return self.ERROR(f"cannot {action} the {self.WHAT} {self.path}: {exc}",
                          sqlite_error_fix(exc, self.path, self.WHAT, self.SETTING))
