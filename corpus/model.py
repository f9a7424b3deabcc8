"""Typed records produced by ingest: documents, their heading tree, and citable chunks."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

from policy_assistant.core.records import record_from_dict

BREADCRUMB_SEP = " › "

# Document types used for metadata filters.
DOC_TYPE_WORK_POINTS = "工作要点"
DOC_TYPE_LAW = "法律"
DOC_TYPE_REGULATION = "行政法规"
DOC_TYPE_INTERPRETATION = "司法解释"
DOC_TYPES = (DOC_TYPE_WORK_POINTS, DOC_TYPE_LAW, DOC_TYPE_REGULATION, DOC_TYPE_INTERPRETATION)


def sha256_text(text: str) -> str:
    """Hex SHA-256 of a UTF-8 string (used for document and chunk content hashes)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MB blocks (corpus files, index files)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Section:
    """One node of a document's heading tree.

    ``label`` is the numbering as printed (``三、``, ``（五）``, ``19.``, ``第十四条``, ``附件1``);
    ``title`` the heading words after it (may be empty for articles and list items);
    ``text`` the body directly under this heading (not the children's).
    """

    label: str
    title: str
    level: int
    kind: str
    text: str = ""
    children: list[Section] = field(default_factory=list)

    @property
    def heading(self) -> str:
        """Label and title as one string, e.g. ``三、主要任务`` or ``第二章 申请与审批``."""
        if not self.title:
            return self.label
        if self.label.endswith(("、", ".", "）", ")")) or not self.label:
            return f"{self.label}{self.title}"
        return f"{self.label} {self.title}"

    def walk(self, path: tuple[str, ...] = ()):
        """Yield ``(path, section)`` for this node's descendants in document order."""
        for child in self.children:
            child_path = (*path, child.heading)
            yield child_path, child
            yield from child.walk(child_path)


@dataclass
class Document:
    """One ingested document with metadata and its heading tree."""

    doc_id: str
    title: str
    file: str
    source_path: str
    doc_type: str
    content_hash: str
    issuer: str | None = None
    dates: dict[str, str] = field(default_factory=dict)
    root: Section = field(default_factory=lambda: Section("", "", 0, "root"))
    meta_text: str = ""  # the document's own date/source block, verbatim
    warnings: list[str] = field(default_factory=list)
    # {"complete", "articles", "last_article", "missing", "reasons", "reason"} for 第X条 documents (corpus/completeness.py)
    completeness: dict | None = None
    # {"pages", "pages_ocr", "mean_confidence", "engine"} when any page was read by OCR (corpus/ocr.py)
    ocr: dict | None = None

    def to_meta(self) -> dict:
        """Metadata without the heading tree (JSON-serialisable)."""
        d = asdict(self)
        d.pop("root")
        return d


@dataclass(frozen=True)
class Chunk:
    """A citable unit: one article, numbered item, target or attachment entry (or a part of a long one).

    ``path`` lists the headings below the document title, ending with the unit's own label;
    ``text`` is the unit's text without the breadcrumb.
    """

    chunk_id: str
    doc_id: str
    doc_title: str
    file: str
    doc_type: str
    path: tuple[str, ...]
    text: str
    position: int
    kind: str = "paragraph"
    part: int = 0
    n_parts: int = 1

    @property
    def section(self) -> str:
        """The breadcrumb as one string: ``title › heading › … › label``."""
        return BREADCRUMB_SEP.join((self.doc_title, *self.path))

    @property
    def retrieval_text(self) -> str:
        """Breadcrumb plus text: what embedders and BM25 see."""
        return f"{self.section}\n{self.text}"

    @property
    def content_hash(self) -> str:
        return sha256_text(self.retrieval_text)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = list(self.path)
        d["section"] = self.section
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Chunk:
        return record_from_dict(cls, d)
