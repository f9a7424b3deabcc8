"""Bad scans and files whose extension lies (issue 13): each one reported on one line with the file name,
the problem and the fix; the other documents still ingest, and an index update keeps what it had."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys

import pytest
from scan_helpers import CORPUS, NOTO_CJK, NOTO_MISSING, law_blocks, render_pages

from policy_assistant.core.errors import CorpusError
from policy_assistant.corpus.readers import read_raw

# real OCR models, servers or worker processes: seconds each (make test-fast leaves them out)
pytestmark = pytest.mark.slow

GOOD = "环境保护法(2014-04-24).md"
TEXT_PDF = CORPUS / "碳排放权交易管理暂行条例(2024-01-25).pdf"


def _png_bytes(image) -> bytes:
    import io

    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _blank_png() -> bytes:
    from PIL import Image

    return _png_bytes(Image.new("RGB", (800, 600), "white"))


def _photo_png() -> bytes:
    """A picture without any writing: coloured shapes on a gradient."""
    from PIL import Image, ImageDraw

    img = Image.linear_gradient("L").resize((800, 600)).convert("RGB")
    draw = ImageDraw.Draw(img)
    draw.ellipse((100, 100, 380, 380), fill=(30, 120, 60))
    draw.rectangle((450, 200, 700, 500), fill=(200, 80, 40))
    return _png_bytes(img)


def _encrypted_pdf(path):
    import pypdf

    writer = pypdf.PdfWriter(clone_from=str(TEXT_PDF))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    writer.write(path)


def _blank_scan_pdf(path):
    from PIL import Image

    Image.new("RGB", (1240, 1754), "white").save(path, "PDF", resolution=150.0)


# name → (bytes or a maker, the words the message must contain)
CASES = {
    "empty.pdf": (b"", "file is empty (0 bytes)"),
    "empty.png": (b"", "file is empty (0 bytes)"),
    "scan.tif": (b"II*\x00whatever", "unsupported file type .tif"),
    "image-named.pdf": (_blank_png, "the content is a PNG image, not the .pdf its name says — rename it to image-named.png"),
    "pdf-named.txt": (lambda: TEXT_PDF.read_bytes(), "the content is a PDF, not the .txt its name says — rename it to pdf-named.pdf"),
    "text-named.png": ("第一条 这是文字，不是图片。\n".encode() * 5, "the content is plain text, not the .png its name says"),
    "word-named.pdf": (b"PK\x03\x04" + b"\x00" * 200, "the content is a ZIP archive (a Word .docx?), not the .pdf"),
    "old-word.docx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200, "an old-format Office file (.doc/.xls)"),
    "truncated.pdf": (lambda: TEXT_PDF.read_bytes()[:900], "cannot read PDF"),
    "corrupt.png": (b"\x89PNG\r\n\x1a\n" + b"\x13" * 300, "not a readable image"),
    "encrypted.pdf": (_encrypted_pdf, "the PDF is encrypted and needs a password to open"),
    "blank.png": (_blank_png, "no text found — OCR recognised no text in the image"),
    "photo.png": (_photo_png, "no text found — OCR recognised no text in the image"),
    "blank-scan.pdf": (_blank_scan_pdf, "no text found — the pages are images and OCR recognised no text"),
}
FIXES = {"encrypted.pdf": "save or print it as a PDF without a password", "blank.png": "scan it again at 300 dpi",
         "corrupt.png": "save the scan again as PNG or JPEG", "old-word.docx": "convert it to one of",
         "truncated.pdf": "replace it with an intact PDF", "text-named.png": "rename it to text-named.txt"}


def _make(folder, name):
    content, _ = CASES[name]
    path = folder / name
    if callable(content):
        made = content(path) if content.__code__.co_argcount else content()
        if made is not None:
            path.write_bytes(made)
    else:
        path.write_bytes(content)
    return path


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scan-bad") / "docs"
    folder.mkdir()
    shutil.copy(CORPUS / GOOD, folder / GOOD)
    for name in CASES:
        _make(folder, name)
    return folder


@pytest.mark.parametrize("name", list(CASES))
def test_each_bad_file_raises_one_line_with_the_problem_and_the_fix(messy, name):
    with pytest.raises(CorpusError) as err:
        read_raw(messy / name)
    text = str(err.value)
    assert text.startswith(f"{name}: ") and CASES[name][1] in text
    assert err.value.fix and "\n" not in text
    if name in FIXES:
        assert FIXES[name] in err.value.fix


def test_cli_lists_every_bad_file_and_still_reads_the_good_one(messy):
    out = subprocess.run([sys.executable, "-m", "policy_assistant", "--corpus", str(messy), "corpus", "show"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "1 documents" in out.stdout and "Traceback" not in out.stdout + out.stderr
    warnings = [ln for ln in out.stdout.splitlines() if ln.startswith("  ! ")]
    for name, (_, words) in CASES.items():
        assert any(name in w and words in w for w in warnings), name


def test_cli_exits_2_with_one_line_when_the_only_file_is_a_bad_scan(tmp_path):
    _make(tmp_path, "blank.png")
    out = subprocess.run([sys.executable, "-m", "policy_assistant", "--corpus", str(tmp_path), "corpus", "show"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "blank.png: no text found" in errors[0] and "Traceback" not in out.stderr


@pytest.mark.slow
def test_index_update_with_bad_scans_keeps_every_indexed_document(built_index, tmp_path):
    """Bad files added to the corpus: the rebuilt index still holds all documents it had (chunks reused)."""
    from policy_assistant.index.build import build_index
    from policy_assistant.index.store import load_stored

    before = load_stored(built_index.index_dir)
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    for name in ("blank.png", "encrypted.pdf", "image-named.pdf", "truncated.pdf"):
        _make(corpus, name)
    index_dir = tmp_path / "index"
    shutil.copytree(built_index.index_dir, index_dir)
    settings = dataclasses.replace(built_index, corpus_dirs=[corpus], index_dir=index_dir,
                                   ocr_cache_dir=tmp_path / "ocr-cache")
    report = build_index(settings)
    after = load_stored(index_dir)
    assert {d["doc_id"] for d in after.documents} == {d["doc_id"] for d in before.documents}
    assert len(after.chunks) == len(before.chunks) and report.n_embedded == 0
    for name in ("blank.png", "encrypted.pdf", "image-named.pdf", "truncated.pdf"):
        assert any(w.startswith(name + ":") for w in report.warnings), name


@pytest.mark.skipif(not NOTO_CJK.is_file(), reason=NOTO_MISSING)
def test_a_scan_saved_as_jpeg_under_a_png_name_is_still_read(tmp_path):
    """PNG and JPEG are both images: a photo saved as .png that is really a JPEG is read, not refused."""
    page = render_pages(law_blocks(max_chars=60))[0]
    page.convert("RGB").save(tmp_path / "scan.png", "JPEG", quality=90)
    raw = read_raw(tmp_path / "scan.png")
    assert raw.title == "中华人民共和国环境保护法" and raw.ocr["pages"] == 1
