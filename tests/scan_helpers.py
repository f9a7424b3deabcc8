"""Make scanned documents for the OCR tests and benchmark: real corpus text rendered to page images with
the Noto CJK font (as a printed 红头文件 looks: centred title and chapter headings, indented paragraphs
wrapped at the right margin), saved as a PDF without a text layer or as a PNG.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SC_FACE = 2  # the collection's faces: JP, KR, SC, TC, HK — simplified Chinese glyphs are face 2
NOTO_MISSING = (f"the Noto CJK font is not installed ({NOTO_CJK}): run `make browser-deps` "
                "(Debian package fonts-noto-cjk)")
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
LAW = "环境保护法(2014-04-24).md"

PAGE_W, PAGE_H, MARGIN = 1240, 1754, 120  # A4 at 150 dpi
BODY_PX, TITLE_PX, LINE_GAP = 28, 40, 1.65


def law_blocks(file: str = LAW, max_chars: int | None = None) -> list[tuple[str, str]]:
    """``(kind, text)`` blocks of a corpus law: ``title``, ``heading`` (第X章) and ``para`` (article text),
    in order, up to ``max_chars`` characters of paragraph text."""
    blocks: list[tuple[str, str]] = []
    used = 0
    info_done = False
    for line in (CORPUS / file).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("# "):
            blocks.append(("title", line[2:]))
        elif "INFO END" in line:
            info_done = True
        elif not info_done:
            continue
        elif line.startswith("## "):
            blocks.append(("heading", line[3:].replace(" ", "\u3000", 1)))
        else:
            if max_chars is not None and used + len(line) > max_chars and used:
                break
            blocks.append(("para", line.replace(" ", "\u3000", 1) if line.startswith("第") else line))
            used += len(line)
    return blocks


_NO_LINE_START = set("，。、；：？！）》」』”’")


def _wrap(text: str, font, width: int, indent: int) -> list[str]:
    """Wrap at the width; punctuation never starts a line (it hangs in the margin, as typesetters do)."""
    lines, current, limit = [], "", width - indent
    for ch in text:
        if font.getlength(current + ch) > limit and ch not in _NO_LINE_START:
            lines.append(current)
            current, limit = "", width
        current += ch
    if current:
        lines.append(current)
    return lines


def render_pages(blocks: list[tuple[str, str]], font_path: Path = NOTO_CJK):
    """Lay the blocks out on A4 pages (PIL images, white, black text); a page number at each foot."""
    from PIL import Image, ImageDraw, ImageFont

    body = ImageFont.truetype(str(font_path), BODY_PX, index=SC_FACE)
    big = ImageFont.truetype(str(font_path), TITLE_PX, index=SC_FACE)
    width = PAGE_W - 2 * MARGIN
    step = int(BODY_PX * LINE_GAP)
    pages: list = []
    page = draw = None
    y = PAGE_H

    def new_page():
        nonlocal page, draw, y
        page = Image.new("L", (PAGE_W, PAGE_H), 255)
        draw = ImageDraw.Draw(page)
        pages.append(page)
        y = MARGIN

    for kind, text in blocks:
        font = big if kind == "title" else body
        if kind == "para":
            rows = [(MARGIN + (2 * BODY_PX if i == 0 else 0), row)
                    for i, row in enumerate(_wrap(text, body, width, 2 * BODY_PX))]
        else:
            rows = [(int((PAGE_W - font.getlength(text)) / 2), text)]
        for x, row in rows:
            h = int(font.size * LINE_GAP) if kind != "para" else step
            if y + h > PAGE_H - MARGIN:
                new_page()
            draw.text((x, y), row, font=font, fill=0)
            y += h + (BODY_PX // 2 if kind == "title" else 0)
    for n, p in enumerate(pages, start=1):
        label = f"- {n} -"
        ImageDraw.Draw(p).text(((PAGE_W - body.getlength(label)) / 2, PAGE_H - MARGIN // 2 - BODY_PX), label,
                               font=body, fill=0)
    return pages


def write_scanned_pdf(pages, path: Path) -> Path:
    """Save page images as an image-only PDF (no text layer), 150 dpi."""
    first, *rest = [p.convert("RGB") for p in pages]
    first.save(path, "PDF", resolution=150.0, save_all=True, append_images=rest)
    return path


def fill_to_pages(n_pages: int, file: str = LAW) -> list[tuple[str, str]]:
    """Blocks of ``file`` just long enough for ``n_pages`` pages."""
    per_page = ((PAGE_H - 2 * MARGIN) // int(BODY_PX * LINE_GAP)) * ((PAGE_W - 2 * MARGIN) // BODY_PX)
    return law_blocks(file, max_chars=int(per_page * (n_pages - 0.4)))


def plain(text: str) -> str:
    """Text without whitespace, for character-level comparison."""
    return re.sub(r"\s+", "", text)


def recovered(reference: str, got: str) -> float:
    """Share of the reference characters found, in order, in ``got`` (whitespace ignored)."""
    ref, out = plain(reference), plain(got)
    matcher = difflib.SequenceMatcher(None, ref, out, autojunk=False)
    return sum(b.size for b in matcher.get_matching_blocks()) / max(1, len(ref))
