"""Format readers: turn a file into a title, metadata lines and cleaned body lines.

Every reader returns a :class:`RawDocument`; structure parsing is format-independent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from policy_assistant.core.errors import CorpusError, os_error_fix
from policy_assistant.corpus.text import clean_line, decode_bytes

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".pdf", *IMAGE_SUFFIXES)

# What a file's first bytes say it is, and what each extension may hold.
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"PK\x03\x04", "zip"),
               (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"), (b"GIF8", "gif"), (b"II*\x00", "tiff"),
               (b"MM\x00*", "tiff"), (b"{\\rtf", "rtf"))
_KINDS = {"pdf": ("a PDF", ".pdf"), "png": ("a PNG image", ".png"), "jpeg": ("a JPEG image", ".jpg"),
          "zip": ("a ZIP archive (a Word .docx?)", ".docx"), "text": ("plain text", ".txt"),
          "ole": ("an old-format Office file (.doc/.xls)", None), "gif": ("a GIF image", None),
          "tiff": ("a TIFF image", None), "rtf": ("an RTF document", None)}
_EXPECTED = {".pdf": {"pdf"}, ".png": {"png", "jpeg"}, ".jpg": {"png", "jpeg"}, ".jpeg": {"png", "jpeg"},
             ".docx": {"zip"}, ".txt": {"text"}, ".md": {"text"}}

# Web-page chrome in documents saved from government sites.
_NAV = re.compile(r"(当前位置|您的位置|首页\s*[>＞»])")
_FOOTER = re.compile(r"(友情链接|主办[:：]|承办[:：]|版权所有|ICP备|ICP证|公网安备|联系电话|网站地图|网站标识码|技术支持[:：]|邮编[:：])")
_SOURCE_LINE = re.compile(r"(来源[:：]|发布时间[:：]|发布日期[:：]|浏览次数|字体[:：]|【打印】|分享到)")
_HOST = re.compile(r"主办[:：]\s*(\S+?)(?:\s|地址|$)")


@dataclass
class RawDocument:
    """What a reader extracted before structure parsing."""

    title: str
    meta_lines: list[str]
    body: list[str]
    encoding: str | None = None
    site_host: str | None = None
    warnings: list[str] = field(default_factory=list)
    ocr: dict | None = None  # pages read by OCR and the mean confidence (corpus/scanned.py)


def read_raw(path: Path, ocr_cache: Path | None = None) -> RawDocument:
    """Read one file by its extension. Raises :class:`CorpusError` with the reason when unreadable.

    Scanned PDF pages and images are read by OCR; ``ocr_cache`` is the folder that keeps OCR results
    per file hash (``None``: OCR every time).
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise CorpusError(
            f"{path.name}: unsupported file type {suffix or '(none)'}",
            f"convert it to one of {', '.join(SUPPORTED_SUFFIXES)} or move it out of the corpus folder",
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _os_error(path, exc) from exc
    if size == 0:
        raise CorpusError(f"{path.name}: file is empty (0 bytes)", "replace it with the full document")
    _check_content(path, suffix)
    if suffix == ".pdf" or suffix in IMAGE_SUFFIXES:
        from policy_assistant.corpus.scanned import read_image, read_pdf

        raw = (read_pdf if suffix == ".pdf" else read_image)(path, ocr_cache)
    else:
        raw = {".txt": _read_text, ".md": _read_markdown, ".docx": _read_docx}[suffix](path)
    if not raw.body:
        raise CorpusError(f"{path.name}: no text found", "check that the file holds the document's text")
    return raw


def sniff(head: bytes) -> str | None:
    """The kind of file its first bytes show (``pdf``, ``png``, ``jpeg``, ``zip``, ``ole`` …), or ``None``."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    return next((kind for magic, kind in _SIGNATURES if head.startswith(magic)), None)


def _check_content(path: Path, suffix: str) -> None:
    """Raise when the content is not what the extension says (a PNG named .pdf, a PDF named .txt …)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise _os_error(path, exc) from exc
    if suffix == ".pdf" and b"%PDF-" in head[:1024]:
        return  # readers accept a PDF header after a little junk
    kind = sniff(head)
    if kind is None and suffix not in (".txt", ".md"):
        try:
            decode_bytes(head[:4000].rsplit(b"\n", 1)[0] or head)
            kind = "text"
        except UnicodeDecodeError:
            return  # unknown binary: the reader says what is wrong with it
    if kind is None or kind in _EXPECTED[suffix]:
        return
    what, ext = _KINDS[kind]
    fix = (f"rename it to {path.stem}{ext}" if ext else
           f"convert it to one of {', '.join(SUPPORTED_SUFFIXES)} (e.g. save it again as PDF or PNG)")
    raise CorpusError(f"{path.name}: the content is {what}, not the {suffix} its name says", fix)


def _os_error(path: Path, exc: OSError) -> CorpusError:
    """A file that cannot be read, with the fix for its errno (a symlink loop is not a permission problem)."""
    return CorpusError(f"{path.name}: cannot read ({exc.strerror})", os_error_fix(exc, f"the file {path.name}"))


def _decode(path: Path) -> tuple[str, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _os_error(path, exc) from exc
    try:
        return decode_bytes(data)
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{path.name}: not readable text (neither UTF-8 nor GBK/GB18030; binary data?)",
            "save it as UTF-8 text or remove it from the corpus folder",
        ) from exc


def _clean_lines(text: str) -> list[str]:
    return [clean_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def _read_text(path: Path) -> RawDocument:
    text, enc = _decode(path)
    lines = _clean_lines(text)
    warnings: list[str] = []
    host = None
    # Saved web page: drop everything up to and including the navigation line, and the footer.
    nav_at = next((i for i, ln in enumerate(lines[:15]) if _NAV.search(ln)), None)
    if nav_at is not None:
        lines = lines[nav_at + 1 :]
        warnings.append("removed web-page navigation at the top")
    footer_at = None
    start_tail = int(len(lines) * 0.6)
    for i in range(start_tail, len(lines)):
        if _FOOTER.search(lines[i]):
            footer_at = i
            break
    if footer_at is not None:
        tail = " ".join(lines[footer_at:])
        m = _HOST.search(tail)
        host = m.group(1) if m else None
        lines = lines[:footer_at]
        warnings.append("removed web-page footer (links, phone numbers, ICP numbers)")
    nonempty = [ln for ln in lines if ln]
    if not nonempty:
        return RawDocument("", [], [], enc, host, warnings)
    title = nonempty[0]
    rest = nonempty[1:]
    meta = []
    while rest and (_SOURCE_LINE.search(rest[0]) or _is_date_line(rest[0])):
        meta.append(rest.pop(0))
    return RawDocument(title, meta, rest, enc, host, warnings)


def split_title(lines: list[str]) -> tuple[str, list[str], list[str]]:
    """First line as the title, the date lines right after it as metadata, the rest as the body."""
    if not lines:
        return "", [], []
    rest = lines[1:]
    meta = []
    while rest and _is_date_line(rest[0]):
        meta.append(rest.pop(0))
    return lines[0], meta, rest


def _is_date_line(line: str) -> bool:
    return bool(re.match(r"^\d{4}年\d{1,2}月\d{1,2}日", line)) and len(line) < 120 and not line.startswith("第")


def _read_markdown(path: Path) -> RawDocument:
    text, enc = _decode(path)
    lines = [ln for ln in _clean_lines(text) if ln]
    title = ""
    meta: list[str] = []
    body: list[str] = []
    info_end = any(ln.startswith("<!--") and "INFO END" in ln for ln in lines)
    in_meta = info_end
    for ln in lines:
        if ln.startswith("<!--"):
            if "INFO END" in ln:
                in_meta = False
            continue
        if ln.startswith("# ") and not title:
            title = ln[2:].strip()
            continue
        if ln.startswith("#"):
            ln = ln.lstrip("#").strip()
            in_meta = False
        if in_meta:
            meta.append(ln)
        else:
            body.append(ln)
    if not info_end:  # no marker: take leading date lines as metadata
        while body and _is_date_line(body[0]):
            meta.append(body.pop(0))
    if not title and body:
        title = body.pop(0)
    return RawDocument(title, meta, body, enc)


def _read_docx(path: Path) -> RawDocument:
    try:
        import docx  # python-docx

        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises PackageNotFoundError, BadZipFile, KeyError…
        raise CorpusError(f"{path.name}: not a valid Word .docx file ({exc})", "re-save it from Word as .docx") from exc
    title = ""
    meta: list[str] = []
    body: list[str] = []
    seen_heading = False
    for p in document.paragraphs:
        text = clean_line(p.text)
        if not text:
            continue
        style = (p.style.name if p.style is not None else "") or ""
        if style == "Title" and not title:
            title = text
        elif style.startswith("Heading"):
            seen_heading = True
            body.append(text)
        elif not seen_heading and _is_date_line(text):
            meta.append(text)
        else:
            body.append(text)
    if not title and body:
        title = body.pop(0)
    return RawDocument(title, meta, body)


