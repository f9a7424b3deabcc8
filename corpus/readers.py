"""Format readers: turn a file into a title, metadata lines and cleaned body lines.

Every reader returns a :class:`RawDocument`; structure parsing is format-independent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from policy_assistant.core.errors import CorpusError, os_error_fix
from policy_assistant.corpus.text import clean_line, decode_bytes, join_wrapped_lines

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".pdf")

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


def read_raw(path: Path) -> RawDocument:
    """Read one file by its extension. Raises :class:`CorpusError` with the reason when unreadable."""
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
    reader = {".txt": _read_text, ".md": _read_markdown, ".docx": _read_docx, ".pdf": _read_pdf}[suffix]
    raw = reader(path)
    if not raw.body:
        raise CorpusError(f"{path.name}: no text found", "check that the file is a text document, not a scan")
    return raw


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


def _read_pdf(path: Path) -> RawDocument:
    try:
        import pypdf

        reader = pypdf.PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many types for damaged files
        raise CorpusError(f"{path.name}: cannot read PDF ({type(exc).__name__}: {exc})", "replace it with an intact PDF") from exc
    lines = [ln for ln in _clean_lines("\n".join(pages)) if ln]
    if not lines:
        return RawDocument("", [], [])
    title = lines[0]
    rest = lines[1:]
    meta = []
    while rest and _is_date_line(rest[0]):
        meta.append(rest.pop(0))
    return RawDocument(title, meta, join_wrapped_lines(rest))
