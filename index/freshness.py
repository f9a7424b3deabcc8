"""Is the index still the corpus? A cheap check front ends run before answering.

Every build records each corpus file it saw (``manifest["sources"]``: path → size, mtime, sha256 of the
bytes, the document it became). :class:`FreshnessChecker` lists the corpus folders again the way ingest
does and compares: one ``stat()`` per file; a file is hashed only when its size or mtime differ from the
record (a file that was only touched is not "changed"), and each hash is remembered for that size/mtime.
Results are reused for ``min_interval`` seconds, so calling it before every question costs next to nothing.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from policy_assistant.core.errors import PolicyAssistantError
from policy_assistant.corpus.ingest import scan_corpus
from policy_assistant.corpus.model import sha256_file
from policy_assistant.corpus.registry import ACTIVE, DELETED, STATUS_LABELS_ZH, read_statuses
from policy_assistant.corpus.uploads import source_dirs

BUILD_FIX = "run `policy-assistant index build`"


@dataclass(frozen=True)
class Staleness:
    """How the corpus folders differ from what the index was built from (labels: titles or file names)."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    checked_files: int = 0
    seconds: float = 0.0

    @property
    def stale(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self, limit: int = 5) -> str:
        """``2 added (a.md, b.md); 1 removed (《X》)`` — at most ``limit`` names per kind."""
        parts = []
        for label, names in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
            if names:
                shown = ", ".join(names[:limit]) + (f" … (+{len(names) - limit})" if len(names) > limit else "")
                parts.append(f"{len(names)} {label} ({shown})")
        return "; ".join(parts)

    def message(self) -> str:
        """One line: what changed since the build and the fix."""
        return (f"the index is out of date — the corpus folders changed since it was built: {self.summary()}; "
                f"answers may cite removed or old text — {BUILD_FIX}")


@dataclass
class _Hashed:
    size: int
    mtime_ns: int
    sha256: str


class FreshnessChecker:
    """Compares an index manifest with the corpus folders; thread-safe, results cached for a few seconds."""

    def __init__(self, manifest: dict, corpus_dirs, min_interval: float = 2.0, documents_db: Path | None = None):
        self.sources: dict[str, dict] | None = manifest.get("sources") if isinstance(manifest, dict) else None
        documents = (manifest or {}).get("documents") or {}
        self._titles = {doc_id: d.get("title") for doc_id, d in documents.items() if isinstance(d, dict)}
        self._statuses = {doc_id: d.get("status", ACTIVE) for doc_id, d in documents.items() if isinstance(d, dict)}
        self.corpus_dirs = [Path(d) for d in corpus_dirs]
        self.documents_db = documents_db
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._last: Staleness | None = None
        self._last_at = 0.0
        self._hashes: dict[str, _Hashed] = {}  # path → hash of the bytes at that size/mtime

    @property
    def supported(self) -> bool:
        """False for an index built before file records were kept (nothing to compare with)."""
        return isinstance(self.sources, dict)

    def _label(self, path: str, record: dict | None) -> str:
        doc_id = (record or {}).get("doc_id")
        title = self._titles.get(doc_id) if doc_id else None
        return f"《{title}》" if title else Path(path).name

    def _same_bytes(self, path: str, record: dict, size: int, mtime_ns: int) -> bool:
        if record.get("size") == size and record.get("mtime_ns") == mtime_ns:
            return True
        known = self._hashes.get(path)
        if known is None or (known.size, known.mtime_ns) != (size, mtime_ns):
            try:
                known = _Hashed(size, mtime_ns, sha256_file(path))
            except OSError:
                return False
            self._hashes[path] = known
        return known.sha256 == record.get("sha256")

    def check(self, force: bool = False) -> Staleness:
        """The differences now (or from at most ``min_interval`` seconds ago unless ``force``)."""
        with self._lock:
            now = time.monotonic()
            if not force and self._last is not None and now - self._last_at < self.min_interval:
                return self._last
            started = time.perf_counter()
            result = self._compare() if self.supported else Staleness()
            self._last = Staleness(result.added, result.changed, result.removed, result.checked_files,
                                   time.perf_counter() - started)
            self._last_at = now
            return self._last

    def _compare(self) -> Staleness:
        recorded = dict(self.sources or {})
        added, changed = [], []
        files = scan_corpus(self.corpus_dirs, [], allow_missing=True)
        for path, st in files:
            record = recorded.pop(path, None)
            if record is None:
                added.append(os.path.basename(path))
            elif not self._same_bytes(path, record, st.st_size, st.st_mtime_ns):
                changed.append(self._label(path, record))
        removed = [self._label(p, r) for p, r in recorded.items()]
        changed += self._status_changes()
        return Staleness(tuple(added), tuple(changed), tuple(sorted(removed)), len(files))

    def _status_changes(self) -> list[str]:
        """Documents whose status in the registry (文件管理 page) is not the one the index recorded."""
        try:
            registry = read_statuses(self.documents_db)
        except PolicyAssistantError:
            return []
        return [f"{self._label('', {'doc_id': d})} ({STATUS_LABELS_ZH.get(s, s)})" for d, s in registry.items()
                if d in self._statuses and s != DELETED and s != self._statuses[d]]

    @classmethod
    def for_settings(cls, manifest: dict, settings, min_interval: float = 2.0) -> FreshnessChecker:
        """A checker of everything the build reads: the corpus folders, the uploads folder, the registry."""
        return cls(manifest, source_dirs(settings), min_interval, getattr(settings, "documents_db", None))


def source_records(sources) -> dict[str, dict]:
    """``manifest["sources"]``: the ingest's :class:`~corpus.ingest.SourceFile` records by path."""
    return {str(src.path): src.to_record() for src in sources}

