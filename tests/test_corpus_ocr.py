"""Scanned PDFs and images through offline OCR (issue 13, item 2).

Real RapidOCR with the PP-OCRv4 models from its wheel, on pages rendered from a real corpus law with the
Noto CJK font and wrapped as an image-only PDF (tests/scan_helpers.py). The geometry of reading order and
line joining is also tested on its own with hand-made boxes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from scan_helpers import (
    CORPUS,
    NOTO_CJK,
    NOTO_MISSING,
    fill_to_pages,
    law_blocks,
    plain,
    recovered,
    render_pages,
    write_scanned_pdf,
)

from policy_assistant.corpus import ocr
from policy_assistant.corpus.ingest import load_corpus
from policy_assistant.corpus.ocr import OcrLine, OcrPage

# real OCR models, servers or worker processes: seconds each (make test-fast leaves them out)
pytestmark = pytest.mark.slow

needs_font = pytest.mark.skipif(not NOTO_CJK.is_file(), reason=NOTO_MISSING)
ARTICLE = re.compile(r"^第[一二三四五六七八九十百千零]+条")


def _reference(blocks) -> str:
    return "\n".join(text for _, text in blocks)


def _text_of(doc) -> str:
    """The document as ingest made it: title, headings and section text in order."""
    parts = [doc.title]
    for _path, node in doc.root.walk():
        parts += [node.heading if node.kind != "article" else "", node.text]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """A 2-page scanned PDF of 环境保护法 (第一章 and part of 第二章), ingested once with an OCR cache."""
    if not NOTO_CJK.is_file():
        pytest.skip(NOTO_MISSING)
    tmp = tmp_path_factory.mktemp("scanned")
    folder = tmp / "corpus"
    folder.mkdir()
    blocks = fill_to_pages(2)
    pages = render_pages(blocks)
    write_scanned_pdf(pages, folder / "环境保护法扫描件.pdf")
    cache = tmp / "ocr-cache"
    result = load_corpus([folder], ocr_cache=cache)
    return {"blocks": blocks, "pages": len(pages), "result": result, "folder": folder, "cache": cache}


@needs_font
def test_scanned_pdf_recovers_at_least_98_percent_of_characters(scanned):
    doc = scanned["result"].documents[0]
    share = recovered(_reference(scanned["blocks"]), _text_of(doc))
    assert share >= 0.98, f"only {share:.1%} of the characters recovered"


@needs_font
def test_scanned_pdf_keeps_the_article_structure(scanned):
    doc = scanned["result"].documents[0]
    assert doc.title == "中华人民共和国环境保护法"
    want_articles = [ARTICLE.match(t).group(0) for k, t in scanned["blocks"] if k == "para" and ARTICLE.match(t)]
    want_chapters = [plain(t) for k, t in scanned["blocks"] if k == "heading"]
    got_articles = [n.label for _p, n in doc.root.walk() if n.kind == "article"]
    got_chapters = [plain(n.heading) for n in doc.root.children if n.kind == "chapter"]
    assert got_articles == want_articles and len(want_articles) >= 15
    assert got_chapters == want_chapters == ["第一章总则", "第二章监督管理"]
    # Each article holds its whole text: paragraphs joined across line and page breaks, none run together.
    source = {ARTICLE.match(t).group(0): plain(t) for k, t in scanned["blocks"] if k == "para" and ARTICLE.match(t)}
    for _p, node in doc.root.walk():
        if node.kind == "article" and node is not doc.root.children[-1].children[-1]:
            first = plain(node.text.split("\n")[0])
            assert recovered(source[node.label], first) > 0.95, node.label
    chunks = scanned["result"].chunks_for(doc.doc_id)
    assert any(c.section == "中华人民共和国环境保护法 › 第一章 总则 › 第六条" for c in chunks)


@needs_font
def test_ocr_use_is_recorded_in_metadata_and_warnings(scanned):
    doc = scanned["result"].documents[0]
    assert doc.ocr["pages_ocr"] == list(range(1, scanned["pages"] + 1))
    assert doc.ocr["pages"] == scanned["pages"] and doc.ocr["mean_confidence"] > 0.95
    assert "PP-OCRv4" in doc.ocr["engine"]
    assert any(w.startswith("OCR used") and "all pages" in w for w in doc.warnings)
    assert doc.to_meta()["ocr"] == doc.ocr  # what documents.json stores


@needs_font
def test_cli_chunks_json_reads_the_scan_from_the_ocr_cache(scanned):
    """`corpus chunks DOC --json` on a folder with a scanned PDF; the module's OCR is reused from the cache."""
    assert list(scanned["cache"].glob("*.json")), "the OCR cache was not written"
    env = {**os.environ, "POLICY_ASSISTANT_OCR_CACHE_DIR": str(scanned["cache"])}
    out = subprocess.run([sys.executable, "-m", "policy_assistant", "--corpus", str(scanned["folder"]), "corpus",
                          "chunks", "环境保护法", "--json"], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["path"][-1] for r in rows if r["path"][-1].startswith("第")][:3] == ["第一条", "第二条", "第三条"]
    assert rows[0]["doc_title"] == "中华人民共和国环境保护法"


@needs_font
def test_png_image_is_read_by_ocr(tmp_path):
    blocks = law_blocks(max_chars=260)  # title, 第一章 and 第一条 … 第四条
    render_pages(blocks)[0].save(tmp_path / "scan.png")
    result = load_corpus([tmp_path])
    doc = result.documents[0]
    assert doc.title == "中华人民共和国环境保护法" and doc.ocr["pages"] == 1
    labels = [n.label for _p, n in doc.root.walk() if n.kind == "article"]
    assert labels == ["第一条", "第二条", "第三条", "第四条"]
    assert recovered(_reference(blocks), _text_of(doc)) >= 0.98


@needs_font
def test_pdf_with_a_text_layer_keeps_it_and_ocrs_only_the_scanned_page(tmp_path):
    import pypdf

    text_pdf = CORPUS / "碳排放权交易管理暂行条例(2024-01-25).pdf"
    scan = write_scanned_pdf(render_pages([("para", "附：本页为扫描件，共两段文字，请核对原件。"),
                                           ("para", "第三十四条 本页文字由图像识别。")]), tmp_path / "scan.pdf")
    (tmp_path / "docs").mkdir()
    writer = pypdf.PdfWriter()
    writer.append(str(text_pdf))
    n_text = len(writer.pages)
    writer.append(str(scan))
    writer.write(tmp_path / "docs" / "mixed.pdf")
    doc = load_corpus([tmp_path / "docs"]).documents[0]
    assert doc.ocr["pages_ocr"] == [n_text + 1] and doc.ocr["pages"] == n_text + 1
    labels = [n.label for _p, n in doc.root.walk() if n.kind == "article"]
    assert labels[-2:] == ["第三十三条", "第三十四条"]
    assert doc.title == "碳排放权交易管理暂行条例"


def test_models_ship_in_the_wheel_and_load_without_network():
    """The engine loads and recognises with every network connection refused (nothing downloads)."""
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n    raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\n"
        "from PIL import Image, ImageDraw\n"
        "from policy_assistant.corpus import ocr\n"
        "img = Image.new('L', (400, 80), 255)\n"
        "ImageDraw.Draw(img).text((10, 20), 'OCR 2024', fill=0, font_size=36)\n"
        "print(''.join(b.text for b in ocr.recognise(img)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "2024" in out.stdout
    import rapidocr_onnxruntime

    models = Path(rapidocr_onnxruntime.__file__).parent / "models"
    assert {p.name for p in models.glob("*.onnx")} >= {"ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx"}


# --------------------------------------------------------------------------- reading order (no OCR)


def _box(text: str, x0: float, y0: float, x1: float, h: float = 30) -> OcrLine:
    return OcrLine(text, x0, y0, x1, y0 + h, 0.99, len(text))


def test_boxes_on_one_line_are_merged_left_to_right_with_a_space_at_a_wide_gap():
    boxes = [_box("为了保护环境，", 300, 102, 700), _box("第一条", 120, 100, 210), _box("第二条", 120, 150, 210)]
    lines = ocr.group_lines(boxes)
    assert [ln.text for ln in lines] == ["第一条 为了保护环境，", "第二条"]


def test_lines_join_into_paragraphs_by_margins_and_indentation():
    lines = [
        _box("中华人民共和国某某法", 400, 100, 840),  # centred title
        _box("第一章 总则", 530, 150, 710),  # centred heading
        _box("第一条 为了保护和改善环境，制定本法。本条写到了右边", 180, 200, 1100),
        _box("的页边距并在此结束。", 120, 250, 400),  # continuation; short, so the paragraph ends
        _box("第二条 违反本法规定的，依照本法第三十条、", 180, 300, 1100),
        _box("第三十一条的规定处罚。", 120, 350, 500),  # a wrapped cross-reference, not a new article
        _box("国家鼓励……", 180, 400, 500),
    ]
    assert ocr.paragraphs(lines, 1240, 1754).paragraphs == [
        "中华人民共和国某某法", "第一章 总则", "第一条 为了保护和改善环境，制定本法。本条写到了右边的页边距并在此结束。",
        "第二条 违反本法规定的，依照本法第三十条、第三十一条的规定处罚。", "国家鼓励……"]


def test_new_article_at_the_margin_starts_a_paragraph_when_the_page_uses_no_indentation():
    lines = [_box("第一条 文字写到了右边的页边距为止", 120, 100, 1100),
             _box("第二条 新的条文", 120, 150, 600),
             _box("还有一行写到了页边距为止的正文内容", 120, 200, 1100),
             _box("续行。", 120, 250, 220)]
    assert ocr.paragraphs(lines, 1240, 1754).paragraphs == ["第一条 文字写到了右边的页边距为止", "第二条 新的条文",
                                                          "还有一行写到了页边距为止的正文内容续行。"]


def test_page_numbers_in_the_page_foot_are_dropped_but_numbers_in_the_text_kept():
    lines = [_box("第一条 正文一直写到页面右边的边距为止", 180, 200, 1100), _box("第二条 正文。", 180, 250, 500),
             _box("12", 120, 300, 160), _box("- 3 -", 600, 1690, 660)]
    assert ocr.paragraphs(lines, 1240, 1754).paragraphs == ["第一条 正文一直写到页面右边的边距为止", "第二条 正文。", "12"]


def test_a_paragraph_running_over_a_page_break_is_joined():
    first = OcrPage(["第一条 甲", "第二条 写到页底"], 0.99, 10, continues=False, runs_on=True)
    second = OcrPage(["翻页后继续。", "第三条 丙。"], 0.99, 10, continues=True, runs_on=False)
    indented = OcrPage(["新的段落。"], 0.99, 5, continues=False)
    assert ocr.join_pages([first, second, indented]) == ["第一条 甲", "第二条 写到页底翻页后继续。", "第三条 丙。", "新的段落。"]
