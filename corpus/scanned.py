"""PDF and image readers: the text layer where a page has one, OCR (corpus/ocr.py) where it has not.

A PDF page whose text layer has fewer than ``MIN_TEXT_LAYER_CHARS`` characters (a scan, or a scan with
a stamp's worth of text) is rendered and OCRed; ``.png``/``.jpg`` files are always OCRed. Which pages
were read by OCR and how confident it was goes into ``RawDocument.ocr`` and a document warning, so
the upload preview and ``corpus show`` can say so.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from pathlib import Path

from policy_assistant.core.errors import CorpusError
from policy_assistant.corpus import ocr
from policy_assistant.corpus.readers import RawDocument, _clean_lines, _os_error, split_title
from policy_assistant.corpus.text import join_wrapped_lines

log = logging.getLogger(__name__)

MIN_TEXT_LAYER_CHARS = 20
NO_TEXT_FIX = ("check that it is a scan of a text page (not a photo or a blank page); scan it again at 300 dpi, "
               "upright and in focus, or use the original text file")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _os_error(path, exc) from exc


def _pdf_text_pages(path: Path, data: bytes) -> list[str]:
    """The text layer of every page (pypdf), or the reason the PDF cannot be read."""
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        return [page.extract_text() or "" for page in reader.pages]
    except (FileNotDecryptedError, DependencyError) as exc:
        raise CorpusError(f"{path.name}: the PDF is encrypted and needs a password to open ({exc})",
                          "open it with its password and save or print it as a PDF without a password, "
                          "then add that copy") from exc
    except Exception as exc:  # pypdf raises many types for damaged files
        raise CorpusError(f"{path.name}: cannot read PDF ({type(exc).__name__}: {exc})",
                          "replace it with an intact PDF") from exc


def _ocr_pdf_pages(path: Path, data: bytes, indexes: list[int], cache: ocr.OcrCache, sha: str) -> dict[int, ocr.OcrPage]:
    """OCR of the given pages (0-based), from the cache where it has them."""
    done = cache.load(sha)
    todo = [i for i in indexes if i not in done]
    if todo:
        import pypdfium2

        pdf = None
        try:
            pdf = pypdfium2.PdfDocument(data)
            for n, i in enumerate(todo, start=1):
                log.info("%s: OCR of page %d (%d of %d)", path.name, i + 1, n, len(todo))
                done[i] = ocr.ocr_image(ocr.render_pdf_page(pdf, i))
        except pypdfium2.PdfiumError as exc:
            raise CorpusError(f"{path.name}: cannot render the scanned pages ({exc})",
                              "replace it with an intact PDF") from exc
        finally:
            if pdf is not None:
                pdf.close()
        cache.save(sha, done)
    return {i: done[i] for i in indexes}


def _ocr_meta(n_pages: int, pages: dict[int, ocr.OcrPage], warnings: list[str]) -> dict | None:
    """``RawDocument.ocr`` and the warnings for the pages read by OCR."""
    if not pages:
        return None
    confidence = ocr.mean_confidence(list(pages.values()))
    numbers = [i + 1 for i in sorted(pages)]
    shown = "all pages" if len(numbers) == n_pages else "pages " + ", ".join(map(str, numbers))
    sure = f"mean confidence {confidence:.2f}" if confidence is not None else "no text recognised"
    warnings.append(f"OCR used ({ocr.ENGINE_NAME}): {shown} of {n_pages} read from the image, {sure} — "
                    "check names and figures against the original")
    if confidence is not None and confidence < ocr.LOW_CONFIDENCE:
        warnings.append(f"OCR confidence is low ({confidence:.2f}): the scan may be blurred, skewed or too small "
                        "— scan it again at 300 dpi")
    return {"pages": n_pages, "pages_ocr": numbers,
            "mean_confidence": round(confidence, 4) if confidence is not None else None,
            "engine": ocr.ENGINE_NAME}


def read_pdf(path: Path, ocr_cache: Path | None = None) -> RawDocument:
    """A PDF: text layer per page, OCR for pages without one; hard-wrapped lines joined."""
    data = _read_bytes(path)
    texts = _pdf_text_pages(path, data)
    scanned = [i for i, t in enumerate(texts) if len(re.sub(r"\s", "", t)) < MIN_TEXT_LAYER_CHARS]
    pages = _ocr_pdf_pages(path, data, scanned, ocr.OcrCache(ocr_cache), hashlib.sha256(data).hexdigest()) \
        if scanned else {}
    warnings: list[str] = []
    meta = _ocr_meta(len(texts), pages, warnings)
    runs = _runs(texts, pages)
    if not any(lines for _, lines in runs):
        if pages:
            raise CorpusError(f"{path.name}: no text found — the pages are images and OCR recognised no text",
                              NO_TEXT_FIX)
        return RawDocument("", [], [])
    first = next(i for i, (_, lines) in enumerate(runs) if lines)
    title, meta_lines, rest = split_title(runs[first][1])
    runs[first] = (runs[first][0], rest)
    body: list[str] = []
    for from_ocr, lines in runs:
        body.extend(lines if from_ocr else join_wrapped_lines(lines))
    return RawDocument(title, meta_lines, body, warnings=warnings, ocr=meta)


def _runs(texts: list[str], pages: dict[int, ocr.OcrPage]) -> list[tuple[bool, list[str]]]:
    """Consecutive pages of one kind as ``(from_ocr, lines)``: text-layer lines still hard-wrapped,
    OCR paragraphs already joined (also across the breaks between scanned pages)."""
    runs: list[tuple[bool, list]] = []
    for i, text in enumerate(texts):
        from_ocr = i in pages
        if not runs or runs[-1][0] != from_ocr:
            runs.append((from_ocr, []))
        runs[-1][1].append(pages[i] if from_ocr else text)
    return [(True, ocr.join_pages(items)) if from_ocr else
            (False, [ln for t in items for ln in _clean_lines(t) if ln]) for from_ocr, items in runs]


def read_image(path: Path, ocr_cache: Path | None = None) -> RawDocument:
    """A scanned page as a PNG or JPEG image, read by OCR."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    data = _read_bytes(path)
    sha = hashlib.sha256(data).hexdigest()
    cache = ocr.OcrCache(ocr_cache)
    page = cache.load(sha).get(0)
    if page is None:
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                image = ImageOps.exif_transpose(img)  # phone photos carry their rotation in EXIF
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            raise CorpusError(f"{path.name}: not a readable image ({type(exc).__name__}: {exc})",
                              "save the scan again as PNG or JPEG") from exc
        page = ocr.ocr_image(image)
        cache.save(sha, {0: page})
    if not page.paragraphs:
        raise CorpusError(f"{path.name}: no text found — OCR recognised no text in the image", NO_TEXT_FIX)
    warnings: list[str] = []
    meta = _ocr_meta(1, {0: page}, warnings)
    title, meta_lines, rest = split_title(page.paragraphs)
    return RawDocument(title, meta_lines, rest, warnings=warnings, ocr=meta)
