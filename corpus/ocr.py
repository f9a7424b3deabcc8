"""Offline OCR for scanned PDF pages and images.

RapidOCR (``rapidocr-onnxruntime``) runs the PP-OCRv4 Chinese detection and recognition models that
ship inside its wheel: nothing is downloaded at run time. PDF pages are rendered with pypdfium2.

The recognised text boxes are put in reading order (top to bottom, boxes on one line left to right)
and the lines joined into paragraphs by their geometry — a line that runs to the right margin
continues on the next line unless that one is indented or starts a new 第X条 / 一、 block — so the
structure parser sees the same paragraphs as in a text document. Page numbers in the page foot are
dropped. Results are cached per file hash (JSON files in the OCR cache folder) because OCR is slow
(seconds per page) and ingest runs again for every ``corpus show`` or ``index build``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import statistics
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from policy_assistant.core.errors import CorpusError
from policy_assistant.corpus.text import clean_line

log = logging.getLogger(__name__)

ENGINE_NAME = "RapidOCR PP-OCRv4 (rapidocr-onnxruntime)"
RENDER_DPI = 150  # A4 → 1240 × 1754 px: 10.5 pt text is ~22 px high, enough for PP-OCR
CACHE_VERSION = 1  # bump when the line/paragraph logic changes, so old cached pages are redone
LOW_CONFIDENCE = 0.85

_NEW_BLOCK = re.compile(r"^(第[一二三四五六七八九十百千零〇两]+[编章节条]|[（(][一二三四五六七八九十]+[）)]|"
                        r"[一二三四五六七八九十]+、|\d+[.．、]|附件)")
_PAGE_NUMBER = re.compile(r"^([-—–－_\s]*\d{1,4}[-—–－_\s]*|第\s*\d+\s*页(\s*[,，/]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+)$")

_ENGINE = None
_ENGINE_LOCK = threading.Lock()


@dataclass
class OcrLine:
    """One line of text in page pixels (boxes on one line merged)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float
    chars: int

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass
class OcrPage:
    """What OCR read on one page: paragraphs in reading order and how sure it was."""

    paragraphs: list[str] = field(default_factory=list)
    confidence: float | None = None  # mean per character; None when nothing was recognised
    chars: int = 0
    # The page's first paragraph continues the previous page's last one / its last one runs on.
    continues: bool = False
    runs_on: bool = False


def engine():
    """The RapidOCR engine, created once per process (loading the models takes about a second)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise CorpusError(f"OCR for scanned pages is not installed ({exc})",
                                  "install the project's dependencies again: make setup "
                                  "(or .venv/bin/pip install -e .)") from exc

            threads = max(1, min(4, os.cpu_count() or 1))
            _ENGINE = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
        return _ENGINE


def recognise(image) -> list[OcrLine]:
    """Run OCR on a PIL image or an RGB array; the boxes found, one :class:`OcrLine` each."""
    import numpy as np

    if hasattr(image, "convert"):
        image = np.asarray(image.convert("RGB"))
    ocr = engine()
    with _ENGINE_LOCK:  # one page at a time: the engine keeps per-call state
        # No per-line angle classifier: it turned an upright line of a clean page upside down (text lost),
        # and scanned lines are upright; it also costs time.
        result, _elapsed = ocr(image, use_cls=False)
    boxes = []
    for points, text, score in result or []:
        text = clean_line(str(text))
        if not text:
            continue
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        boxes.append(OcrLine(text, min(xs), min(ys), max(xs), max(ys), float(score), len(text.replace(" ", ""))))
    return boxes


def group_lines(boxes: list[OcrLine]) -> list[OcrLine]:
    """Boxes into lines: sorted by vertical centre, a box joins the line it overlaps by half its height;
    within a line boxes go left to right, with a space where the gap is wider than a character."""
    lines: list[list[OcrLine]] = []
    for box in sorted(boxes, key=lambda b: (b.y0 + b.y1) / 2):
        if lines:
            top = min(b.y0 for b in lines[-1])
            bottom = max(b.y1 for b in lines[-1])
            overlap = min(bottom, box.y1) - max(top, box.y0)
            if overlap >= 0.5 * min(box.height, bottom - top):
                lines[-1].append(box)
                continue
        lines.append([box])
    out = []
    for group in lines:
        group.sort(key=lambda b: b.x0)
        text = group[0].text
        for prev, box in zip(group, group[1:], strict=False):
            gap = box.x0 - prev.x1
            text += (" " if gap > 0.8 * max(prev.height, box.height) else "") + box.text
        chars = sum(b.chars for b in group)
        score = sum(b.score * b.chars for b in group) / max(1, chars)
        out.append(OcrLine(text, min(b.x0 for b in group), min(b.y0 for b in group), max(b.x1 for b in group),
                           max(b.y1 for b in group), score, chars))
    return out


def _drop_page_numbers(lines: list[OcrLine], page_height: float) -> list[OcrLine]:
    """Lines in the top or bottom 8 % of the page that are only a page number (``- 3 -``, ``第3页``)."""
    zone = 0.08 * page_height
    return [ln for ln in lines
            if not ((ln.y1 < zone or ln.y0 > page_height - zone) and _PAGE_NUMBER.match(ln.text))]


def paragraphs(lines: list[OcrLine], page_width: float, page_height: float) -> OcrPage:
    """Join the lines of one page into paragraphs by their position (see the module doc)."""
    lines = _drop_page_numbers(lines, page_height)
    if not lines:
        return OcrPage()
    char = statistics.median(ln.height for ln in lines)  # CJK characters are about as wide as high
    body = [ln for ln in lines if ln.chars >= 8] or lines
    left = min(ln.x0 for ln in body)
    right = max(ln.x1 for ln in body)
    indented = [ln.x0 > left + 1.2 * char for ln in lines]
    uses_indent = sum(indented) >= 2 and sum(not i for i in indented) >= 2
    full = [ln.x1 >= right - 1.5 * char and not _centred(ln, left, right, char) for ln in lines]

    def continues(i: int) -> bool:
        if indented[i] or _centred(lines[i], left, right, char):
            return False
        return uses_indent or not _NEW_BLOCK.match(lines[i].text)

    paras: list[list[OcrLine]] = [[lines[0]]]
    for i in range(1, len(lines)):
        if full[i - 1] and continues(i):
            paras[-1].append(lines[i])
        else:
            paras.append([lines[i]])
    chars = sum(ln.chars for ln in lines)
    confidence = sum(ln.score * ln.chars for ln in lines) / max(1, chars)
    texts = [_join([ln.text for ln in p]) for p in paras]
    return OcrPage(texts, confidence, chars, continues=continues(0), runs_on=full[-1])


def _centred(line: OcrLine, left: float, right: float, char: float) -> bool:
    """A line clear of both margins whose middle is the text block's middle (title, chapter heading)."""
    if line.x0 < left + 1.5 * char or line.x1 > right - 1.5 * char:
        return False
    return abs((line.x0 + line.x1) / 2 - (left + right) / 2) < 1.5 * char


def _join(parts: list[str]) -> str:
    """Join wrapped lines: no space between Chinese, one between two ASCII words."""
    out = parts[0]
    for part in parts[1:]:
        ascii_join = out[-1:].isascii() and out[-1:].isalnum() and part[:1].isascii() and part[:1].isalnum()
        out += (" " if ascii_join else "") + part
    return out


def ocr_image(image) -> OcrPage:
    """OCR one page image (PIL) into paragraphs."""
    return paragraphs(group_lines(recognise(image)), image.width, image.height)


def join_pages(pages: list[OcrPage]) -> list[str]:
    """The pages' paragraphs in order; a paragraph that runs on to the next page is joined across the break."""
    out: list[str] = []
    open_end = False
    for page in pages:
        paras = list(page.paragraphs)
        if paras and out and open_end and page.continues:
            out[-1] = _join([out[-1], paras.pop(0)])
        out.extend(paras)
        open_end = page.runs_on if page.paragraphs else open_end
    return out


def mean_confidence(pages: list[OcrPage]) -> float | None:
    """Mean confidence per recognised character over the pages (``None`` when nothing was read)."""
    chars = sum(p.chars for p in pages if p.confidence is not None)
    if not chars:
        return None
    return sum(p.confidence * p.chars for p in pages if p.confidence is not None) / chars


def render_pdf_page(pdf, index: int, dpi: int = RENDER_DPI):
    """Page ``index`` of an open ``pypdfium2.PdfDocument`` as a PIL image."""
    page = pdf[index]
    try:
        return page.render(scale=dpi / 72).to_pil()
    finally:
        page.close()


class OcrCache:
    """OCR results per file hash, one JSON file each (never pickle). A folder that cannot be written
    only costs the OCR time again."""

    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder else None

    def _path(self, sha256: str) -> Path | None:
        return self.folder / f"{sha256}.json" if self.folder else None

    def load(self, sha256: str) -> dict[int, OcrPage]:
        path = self._path(sha256)
        if path is None or not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != CACHE_VERSION or data.get("engine") != ENGINE_NAME:
                return {}
            return {int(k): OcrPage(**v) for k, v in data["pages"].items()}
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning("ignoring OCR cache %s: %s", path, exc)
            return {}

    def save(self, sha256: str, pages: dict[int, OcrPage]) -> None:
        path = self._path(sha256)
        if path is None:
            return
        data = {"version": CACHE_VERSION, "engine": ENGINE_NAME, "pages": {str(k): asdict(v) for k, v in pages.items()}}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("cannot write the OCR cache %s (%s): OCR runs again next time", path, exc.strerror)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
