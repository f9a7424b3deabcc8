"""Uploaded documents: the managed folder, checks of an uploaded file, and a preview of what ingest makes of it.

Uploads live in ``settings.uploads_dir`` (default ``data/uploads``), a folder the app creates and marks
as its own (``.policy-assistant-uploads``); the app writes and deletes files only there, never in the
configured corpus folders. The index build reads the corpus folders plus this folder
(:func:`source_dirs`). Staged files (uploaded, not yet accepted) wait in ``.staging/`` inside it, which
ingest skips like every name starting with a dot.

A preview runs the ordinary ingest (``read_document`` + ``chunk_document``) on the staged file, so
every reader the corpus layer has (OCR included, when it exists) applies to uploads too.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from policy_assistant.core.errors import CorpusError, UploadError, os_error_fix
from policy_assistant.corpus import readers
from policy_assistant.corpus.chunking import chunk_document
from policy_assistant.corpus.ingest import read_document
from policy_assistant.corpus.model import Document, sha256_text

MARKER = ".policy-assistant-uploads"
STAGING = ".staging"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
UPLOAD_SUFFIXES = (".txt", ".md", ".docx", ".pdf", *IMAGE_SUFFIXES)
STAGED_MAX_AGE_S = 24 * 3600

# what a file's first bytes say it is
_KIND_ZH = {"pdf": "PDF 文件", "docx": "Word (.docx) 文件", "zip": "ZIP 压缩包", "png": "PNG 图片", "jpg": "JPEG 图片",
            "ole": "旧版 Office 文件（.doc/.xls）", "binary": "二进制文件（不是文字）", "text": "纯文本"}
_EXPECTED = {".pdf": "pdf", ".docx": "docx", ".png": "png", ".jpg": "jpg", ".jpeg": "jpg", ".txt": "text",
             ".md": "text"}
_SUFFIX_FOR = {"pdf": ".pdf", "docx": ".docx", "png": ".png", "jpg": ".jpg", "text": ".txt"}


# ---- the managed folder ---------------------------------------------------------------------------


def is_managed(folder: Path) -> bool:
    """True when ``folder`` is an uploads folder this app created."""
    return (Path(folder) / MARKER).is_file()


def managed_folder(folder: Path) -> Path:
    """The uploads folder, created and marked on first use. A folder that exists with other files in it
    and without the marker is refused untouched (the app never writes into a folder it did not create)."""
    folder = Path(folder)
    try:
        if folder.is_dir() and not is_managed(folder):
            if any(folder.iterdir()):
                raise UploadError(f"{folder} is not the app's uploads folder: it holds other files and no {MARKER}; "
                                  "nothing in it was changed",
                                  "set uploads_dir (policy-assistant.toml or POLICY_ASSISTANT_UPLOADS_DIR) to a new "
                                  "or empty folder")
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / MARKER
        if not marker.exists():
            marker.write_text("policy-assistant uploads: files here are managed by the 文件管理 page\n",
                              encoding="utf-8")
    except OSError as exc:
        raise UploadError(f"cannot create the uploads folder {folder}: {exc.strerror}",
                          os_error_fix(exc, f"the folder {folder.parent}")) from exc
    return folder


def source_dirs(settings) -> list[Path]:
    """The folders the index is built from: the configured corpus folders plus the managed uploads
    folder (when the app has created it)."""
    dirs = [Path(d) for d in settings.corpus_dirs]
    uploads = getattr(settings, "uploads_dir", None)
    if uploads and is_managed(Path(uploads)) and Path(uploads) not in dirs:
        dirs.append(Path(uploads))
    return dirs


# ---- checks of one file ---------------------------------------------------------------------------


def sniff(data: bytes) -> str:
    """What the bytes are: ``pdf``, ``docx``, ``zip``, ``png``, ``jpg``, ``ole``, ``binary`` or ``text``."""
    head = data[:8]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return "docx" if "word/document.xml" in z.namelist() else "zip"
        except zipfile.BadZipFile:
            return "zip"
    sample = data[:65536]
    if b"\x00" in sample.replace(b"\x00\x00", b"") and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"
    return "text"


def safe_name(name: str) -> str:
    """A plain file name from an uploaded name: no folders, control characters, leading dots or
    characters file systems refuse; at most 120 characters before the extension."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", name).strip().lstrip(".").strip()
    stem, suffix = os.path.splitext(name)
    stem = stem.strip() or "document"
    return stem[:120] + suffix.lower()


def check_upload(name: str, data: bytes, max_bytes: int) -> str:
    """Refuse what cannot become a document; returns the file's suffix. Raises :class:`UploadError`:
    empty, too large, a type the app does not read, an extension that lies about the content, an
    encrypted PDF, an image while no OCR is installed."""
    suffix = os.path.splitext(name)[1].lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadError(f"{name}：不支持的文件类型 {suffix or '（无扩展名）'}",
                          f"请上传 {'、'.join(UPLOAD_SUFFIXES)} 文件（Word 的 .doc 请另存为 .docx）")
    if not data:
        raise UploadError(f"{name}：文件是空的（0 字节）", "选择完整的文件重新上传")
    if len(data) > max_bytes:
        raise UploadError(f"{name}：文件太大（{len(data) / 2**20:.1f} MB，上限 {max_bytes / 2**20:.0f} MB）",
                          "拆分成几个文件上传，或在 policy-assistant.toml 中调大 upload_max_mb")
    kind = sniff(data)
    if suffix == ".docx" and kind == "zip":
        kind = "docx"  # a damaged Word file: the reader names what is wrong with it
    if kind != _EXPECTED[suffix]:
        fix = (f"把文件改名为 {_SUFFIX_FOR[kind]} 后再上传" if kind in _SUFFIX_FOR
               else "用原来的程序把文件另存为 .docx、.pdf 或 .txt 后再上传")
        raise UploadError(f"{name}：扩展名是 {suffix}，但内容是{_KIND_ZH[kind]}", fix)
    if suffix in IMAGE_SUFFIXES and suffix not in readers.SUPPORTED_SUFFIXES:
        raise UploadError(f"{name}：图片需要文字识别（OCR），当前安装的版本还不能读取图片",
                          "上传文字版的 PDF、Word 或 TXT 文件")
    if kind == "pdf":
        _check_pdf_password(name, data)
    return suffix


def _check_pdf_password(name: str, data: bytes) -> None:
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and not reader.decrypt("")
    except Exception:  # noqa: BLE001 - a damaged PDF is reported by the reader with its own message
        return
    if locked:
        raise UploadError(f"{name}：PDF 有密码保护（已加密），无法读取文字",
                          "在 PDF 软件中去除密码（或“打印”为新的 PDF）后再上传")


# ---- staging and preview --------------------------------------------------------------------------


@dataclass
class UploadPreview:
    """What ingest made of one uploaded file (or why it cannot be used)."""

    name: str  # the uploaded name, made safe
    size: int
    sha256: str
    staged: str = ""  # path of the staged copy ("" when refused before staging)
    title: str = ""
    doc_type: str = ""
    dates: dict = field(default_factory=dict)
    issuer: str | None = None
    outline: list[tuple[int, str]] = field(default_factory=list)  # (depth, heading) of the heading tree
    n_chunks: int = 0
    warnings: list[str] = field(default_factory=list)
    content_hash: str = ""
    error: str = ""  # one line: the problem
    fix: str = ""
    duplicate_of: str = ""  # doc_id of a document with the same bytes or text

    @property
    def ok(self) -> bool:
        return not self.error

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def outline_of(doc: Document, limit: int = 400) -> list[tuple[int, str]]:
    """The heading tree as ``(depth, heading)`` (一、/（一）/1./第X条/附件 …), at most ``limit`` entries."""
    out = []
    for path, sec in doc.root.walk():
        out.append((len(path), sec.heading))
        if len(out) >= limit:
            break
    return out


def stage(uploads: Path, name: str, data: bytes) -> Path:
    """Write the bytes to a fresh file in the staging folder (removing staged files older than a day)."""
    folder = managed_folder(uploads) / STAGING
    try:
        folder.mkdir(exist_ok=True)
        _remove_old_staged(folder)
        sub = folder / f"{int(time.time())}-{secrets.token_hex(6)}"
        sub.mkdir()
        path = sub / name
        with open(path, "xb") as f:
            f.write(data)
    except OSError as exc:
        raise UploadError(f"{name}：无法保存上传的文件（{exc.strerror}）", os_error_fix(exc, f"the folder {folder}")) from exc
    return path


def _remove_old_staged(folder: Path) -> None:
    cutoff = time.time() - STAGED_MAX_AGE_S
    for sub in folder.iterdir():
        m = re.match(r"(\d+)-[0-9a-f]{12}$", sub.name)
        if m and int(m.group(1)) < cutoff and sub.is_dir():
            discard_staged(sub)


def discard_staged(path: Path | str) -> None:
    """Remove a staged upload (the file and its one-use folder) — only names :func:`stage` makes."""
    p = Path(path)
    sub = p if p.is_dir() else p.parent
    if sub.parent.name != STAGING or not re.match(r"\d+-[0-9a-f]{12}$", sub.name):
        return
    for f in sub.iterdir():
        f.unlink(missing_ok=True)
    sub.rmdir()


def preview_upload(uploads: Path, name: str, data: bytes, *, max_bytes: int, max_chars: int = 420,
                   overlap: int = 60) -> UploadPreview:
    """Check, stage and read one uploaded file. A refused file comes back with ``error`` and ``fix``
    set (nothing staged); a readable one with title, type, dates, heading tree, chunk count, warnings."""
    import hashlib

    name = safe_name(name)
    pv = UploadPreview(name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    try:
        check_upload(name, data, max_bytes)
        path = stage(uploads, name, data)
    except UploadError as exc:
        pv.error, pv.fix = exc.message, exc.fix or ""
        return pv
    pv.staged = str(path)
    try:
        doc = read_document(path, doc_id=path.stem)
        chunks = chunk_document(doc, max_chars, overlap)
    except CorpusError as exc:
        reason = exc.message.replace(str(path), name).removeprefix(f"{path.name}: ")
        pv.error, pv.fix = f"{name}：无法读取 — {reason}", exc.fix or ""
        discard_staged(path)
        pv.staged = ""
        return pv
    if not chunks:
        pv.error, pv.fix = f"{name}：没有找到可用的文字段落", "检查文件是否为文字文件（扫描件需要文字识别）"
        discard_staged(path)
        pv.staged = ""
        return pv
    pv.title, pv.doc_type, pv.dates, pv.issuer = doc.title, doc.doc_type, dict(doc.dates), doc.issuer
    pv.outline, pv.n_chunks, pv.warnings = outline_of(doc), len(chunks), list(doc.warnings)
    pv.content_hash = doc.content_hash or sha256_text(doc.title)
    return pv
