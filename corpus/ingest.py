"""Ingest: read every document in the corpus folders into ``Document`` trees and ``Chunk`` lists."""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from policy_assistant.core.errors import CorpusError, os_error_fix
from policy_assistant.corpus.chunking import chunk_document
from policy_assistant.corpus.completeness import check_completeness, completeness_warning
from policy_assistant.corpus.model import (
    DOC_TYPE_INTERPRETATION,
    DOC_TYPE_LAW,
    DOC_TYPE_REGULATION,
    DOC_TYPE_WORK_POINTS,
    Chunk,
    Document,
    sha256_file,
    sha256_text,
)
from policy_assistant.corpus.readers import SUPPORTED_SUFFIXES, RawDocument, read_raw
from policy_assistant.corpus.structure import parse_structure
from policy_assistant.corpus.terms import build_domain_terms

log = logging.getLogger(__name__)

@dataclass
class CorpusResult:
    """Everything ingest produced: documents, chunks, warnings and the jieba domain dictionary."""

    documents: list[Document]
    chunks: list[Chunk]
    warnings: list[str] = field(default_factory=list)
    domain_terms: list[str] = field(default_factory=list)
    sources: list[SourceFile] = field(default_factory=list)  # every corpus file seen, read or not

    def chunks_for(self, doc_id: str) -> list[Chunk]:
        return [c for c in self.chunks if c.doc_id == doc_id]

    def find_document(self, query: str) -> Document:
        """The document whose title, id or file name equals or uniquely contains ``query``."""
        return find_document(self.documents, query)


def find_document(documents: list[Document], query: str) -> Document:
    """Match a document by exact title/id/file, else by a unique substring. Raises CorpusError."""
    q = query.strip()
    for d in documents:
        if q in (d.title, d.doc_id, d.file):
            return d
    matches = [d for d in documents if q and (q in d.title or q in d.file)]
    if len(matches) == 1:
        return matches[0]
    titles = ", ".join(d.title for d in (matches or documents))
    if not matches:
        raise CorpusError(f"no document matches {query!r}", f"use a title or a unique part of one: {titles}")
    raise CorpusError(f"{query!r} matches {len(matches)} documents", f"be more specific: {titles}")


def classify(title: str) -> str:
    """Document type from the title: 工作要点, 司法解释, 行政法规 or 法律."""
    if "工作要点" in title or re.search(r"(计划|方案|意见|通知)$", title):
        return DOC_TYPE_WORK_POINTS
    if "解释" in title and ("最高人民法院" in title or "最高人民检察院" in title):
        return DOC_TYPE_INTERPRETATION
    if re.search(r"(条例|规定|办法|细则)$", title):
        return DOC_TYPE_REGULATION
    return DOC_TYPE_LAW


# --------------------------------------------------------------------------- metadata: dates, issuer

_DATE_EVENT = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日((?:(?!\d{4}\s*年).){0,80}?)(通过|修订|修正|公布|发布|施行)")
_PUBLISHED = re.compile(r"发布(?:时间|日期)[:：]\s*(\d{4})-(\d{1,2})-(\d{1,2})")
_EFFECTIVE = re.compile(r"自\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日起施行")
_ISSUERS = re.compile(r"全国人民代表大会常务委员会|全国人民代表大会|国务院|最高人民法院|最高人民检察院")


def _iso(y: str, m: str, d: str) -> str:
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"


def extract_dates(meta_lines: list[str], body: list[str]) -> dict[str, str]:
    """Dates stated in the date block (通过/修订/修正/公布/发布/施行) and ``自…起施行`` in the text.
    For events that happened more than once (修正), the latest date is kept."""
    dates: dict[str, str] = {}
    for line in meta_lines:
        m = _PUBLISHED.search(line)
        if m:
            dates["发布"] = _iso(*m.groups())
        for m in _DATE_EVENT.finditer(line):
            dates[m.group(5)] = _iso(m.group(1), m.group(2), m.group(3))
    if "施行" not in dates:
        for line in body:
            m = _EFFECTIVE.search(line)
            if m:
                dates["施行"] = _iso(*m.groups())
                break
    return dates


def extract_issuer(raw: RawDocument, doc_type: str) -> str | None:
    """Issuing body from the date block (or the web site's host for saved pages)."""
    if raw.site_host:
        return raw.site_host
    found: list[str] = []
    for line in raw.meta_lines:
        for m in _ISSUERS.finditer(line):
            if m.group(0) not in found:
                found.append(m.group(0))
    if found:
        return "、".join(found)
    if doc_type == DOC_TYPE_REGULATION:
        return "国务院"
    return None


def read_document(path: Path, doc_id: str | None = None, ocr_cache: Path | None = None) -> Document:
    """Read and parse one file. Raises :class:`CorpusError` naming the file and the reason.

    ``ocr_cache``: the folder that keeps OCR results of scanned PDFs and images (``None``: none kept).
    """
    raw = read_raw(path, ocr_cache)
    warnings = list(raw.warnings)
    if raw.encoding and raw.encoding != "utf-8":
        warnings.append(f"decoded as {raw.encoding}")
    root = parse_structure(raw.body, warnings)
    completeness = check_completeness(root)
    incomplete = completeness_warning(completeness)
    if incomplete:
        warnings.append(incomplete)
    title = raw.title.lstrip("#").strip()
    doc_type = classify(title)
    content = "\n".join([title, *raw.meta_lines, *raw.body])
    return Document(
        doc_id=doc_id or path.stem,
        title=title,
        file=path.name,
        source_path=str(path),
        doc_type=doc_type,
        content_hash=sha256_text(content),
        issuer=extract_issuer(raw, doc_type),
        dates=extract_dates(raw.meta_lines, raw.body),
        root=root,
        meta_text="\n".join(raw.meta_lines),
        warnings=warnings,
        completeness=completeness,
        ocr=raw.ocr,
    )


MISSING_FIX = ("fix corpus_dirs (policy-assistant.toml, POLICY_ASSISTANT_CORPUS_DIRS or --corpus), or pass "
               "--allow-missing (allow_missing_corpus = true) to go on without it")


def _folder_problem(d: Path) -> CorpusError | None:
    """Why ``d`` cannot be used as a corpus folder (with the fix), or ``None`` when it can."""
    try:
        st = os.stat(d)
    except FileNotFoundError:
        return CorpusError(f"{d}: corpus folder does not exist", MISSING_FIX)
    except OSError as exc:
        return CorpusError(f"{d}: cannot open the corpus folder ({exc.strerror})", os_error_fix(exc, f"the folder {d}"))
    if not stat.S_ISDIR(st.st_mode):
        return CorpusError(f"{d}: is a file, not a corpus folder", MISSING_FIX)
    return None


def _entry_stat(entry: os.DirEntry, warnings: list[str]) -> os.stat_result | None:
    """The entry's stat (links followed); a warning for one that cannot be read (broken or looping link …)."""
    try:
        return entry.stat()
    except OSError as exc:
        if entry.is_symlink() and exc.errno == errno.ENOENT:
            fix = f"the symbolic link points to {os.readlink(entry.path)!r}, which does not exist: fix or remove the link"
        else:
            fix = os_error_fix(exc, f"the file {entry.name}")
        warnings.append(f"{entry.name}: cannot read ({exc.strerror}) — {fix}")
        return None


def scan_corpus(dirs: list[Path], warnings: list[str], allow_missing: bool = False) -> list[tuple[str, os.stat_result]]:
    """``(path, stat)`` of the supported files in the folders, sorted by name within each folder.

    Other files and unreadable entries become warnings. A folder that does not exist (or is not a
    folder) raises :class:`CorpusError` — its documents would silently drop out of the index — unless
    ``allow_missing``, which makes it a warning. One stat() per entry and plain strings: the
    stale-index check runs this before answering.
    """
    files: list[tuple[str, os.stat_result]] = []
    for d in dirs:
        problem = _folder_problem(Path(d))
        if problem is None:
            try:
                entries = sorted(os.scandir(d), key=lambda e: e.name)
            except OSError as exc:
                problem = CorpusError(f"{d}: cannot list the corpus folder ({exc.strerror})",
                                      os_error_fix(exc, f"the folder {d}"))
        if problem is not None:
            if not allow_missing:
                raise problem
            warnings.append(str(problem))
            continue
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name.lower() == "readme.md":
                continue
            st = _entry_stat(entry, warnings)
            if st is None or stat.S_ISDIR(st.st_mode):
                continue
            suffix = os.path.splitext(name)[1]
            if suffix.lower() not in SUPPORTED_SUFFIXES:
                warnings.append(f"{name}: skipped, unsupported file type {suffix or '(none)'} "
                                f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
                continue
            files.append((os.path.join(d, name), st))
    return files


def iter_corpus_files(dirs: list[Path], warnings: list[str], allow_missing: bool = False) -> list[Path]:
    """The paths of :func:`scan_corpus`."""
    return [Path(p) for p, _ in scan_corpus(dirs, warnings, allow_missing)]


@dataclass(frozen=True)
class SourceFile:
    """A corpus file as ingest saw it (recorded in the index manifest, so a later check can tell
    whether the corpus changed): size, mtime, sha256 of the bytes and the document it became."""

    path: Path
    size: int
    mtime_ns: int
    sha256: str
    doc_id: str | None = None  # None: skipped (unreadable, no text, or a duplicate)
    duplicate_of: str | None = None

    def to_record(self) -> dict:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "sha256": self.sha256, "doc_id": self.doc_id,
                "duplicate_of": self.duplicate_of}


def _source(path: Path) -> SourceFile | None:
    try:
        st = path.stat()
        return SourceFile(path, st.st_size, st.st_mtime_ns, sha256_file(path))
    except OSError:
        return None  # read_document reports why


def load_corpus(dirs: list[Path], max_chars: int = 420, overlap: int = 60, *,
                allow_missing: bool = False, ocr_cache: Path | None = None) -> CorpusResult:
    """Ingest every supported document in ``dirs``.

    Unreadable files are skipped with a warning naming the file and the reason; a document with the
    same text as one already read (a copy under another name) is indexed once, with a warning. Raises
    :class:`CorpusError` when no document at all could be read, or when a folder is missing and not
    ``allow_missing``. Scanned PDFs and images are read by OCR, whose results are kept in ``ocr_cache``.
    """
    warnings: list[str] = []
    documents: list[Document] = []
    chunks: list[Chunk] = []
    sources: list[SourceFile] = []
    seen_ids: set[str] = set()
    by_hash: dict[str, Document] = {}
    for path in iter_corpus_files(dirs, warnings, allow_missing):
        source = _source(path)
        doc_id = path.stem
        n = 2
        while doc_id in seen_ids:  # same file name in two folders
            doc_id = f"{path.stem}~{n}"
            n += 1
        try:
            doc = read_document(path, doc_id, ocr_cache)
        except CorpusError as exc:
            warnings.append(str(exc))
            log.warning("%s", exc)
            if source:
                sources.append(source)
            continue
        first = by_hash.get(doc.content_hash)
        if first is not None:
            warnings.append(f"{path.name}: same text as {first.file} — indexed once (as {first.file}); "
                            "remove one of the copies")
            log.warning("%s duplicates %s", path, first.source_path)
            if source:
                sources.append(dataclasses.replace(source, duplicate_of=first.doc_id))
            continue
        doc_chunks = chunk_document(doc, max_chars, overlap)
        if source:
            sources.append(dataclasses.replace(source, doc_id=doc_id if doc_chunks else None))
        if not doc_chunks:
            warnings.append(f"{path.name}: no text units found — skipped")
            continue
        seen_ids.add(doc_id)
        by_hash[doc.content_hash] = doc
        documents.append(doc)
        chunks.extend(doc_chunks)
    if not documents:
        where = ", ".join(str(d) for d in dirs) or "(no folders configured)"
        detail = "; ".join(warnings) if warnings else f"the folders contain no {'/'.join(SUPPORTED_SUFFIXES)} files"
        raise CorpusError(f"no document could be read from {where}: {detail}",
                          "point corpus_dirs (policy-assistant.toml, POLICY_ASSISTANT_CORPUS_DIRS or --corpus) at the documents")
    terms = build_domain_terms(documents, chunks)
    return CorpusResult(documents, chunks, warnings, terms, sources)


def corpus_from_settings(settings) -> CorpusResult:
    """:func:`load_corpus` of the configured folders plus the app's uploads folder, with the configured
    chunking and ``allow_missing_corpus``."""
    from policy_assistant.corpus.uploads import source_dirs

    return load_corpus(source_dirs(settings), settings.chunk_max_chars, settings.chunk_overlap_chars,
                       allow_missing=bool(getattr(settings, "allow_missing_corpus", False)),
                       ocr_cache=getattr(settings, "ocr_cache_dir", None))
