"""Issue 10, security: user- and document-controlled strings never become active Markdown/HTML in the app.

Cases from the issue: "Markdown injection through reader deep links" (``?doc=![x](http://…)`` made the
browser fetch an outside image; ``?doc=[会话已过期…](http://…/phish)`` drew a phishing link) and "HTML from
a document title" (the scope caption passed a title to ``unsafe_allow_html`` unescaped). The pages are
driven with ``AppTest``; what the rendered elements would make active is checked with
``tests/markdown_probe.py`` (links, images, tags with URLs or handlers, and bare URLs, which remark-gfm
links even when escaped). The real-browser check is in ``tests/test_security_server.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from markdown_probe import active_in_app, active_markup
from security_corpus import EVIL_HOST, EVIL_TITLE, write_corpus

from policy_assistant.app_pages.text import html_text, md_text

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
READER = str(ROOT / "app_pages" / "reader.py")
TIMEOUT = 60
WORK_POINTS = "衡阳市2021年生态环境保护工作要点"
IMAGE = "![x](http://127.0.0.1:9/img.png)"
PHISH = "[会话已过期，请点此重新登录](http://evil.example/phish)"


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    monkeypatch.chdir(ROOT)  # the pages find policy-assistant.toml from the working directory
    monkeypatch.setenv("POLICY_ASSISTANT_APP_PASSWORD", "")


def _reader(**params) -> AppTest:
    at = AppTest.from_file(READER, default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


# --------------------------------------------------------------------------- the two helpers


@pytest.mark.parametrize("text", [
    IMAGE, PHISH, "<img src=x onerror=alert(1)>", "见 http://evil.example/a 或 www.evil.example 或 a@evil.example",
    "<https://evil.example>", "[x][r]\n\n[r]: http://evil.example", ":red[红字] :material/home: $x^2$ ~删除~",
    "&#91;x&#93;&#40;http://evil.example&#41;", "\\[x](http://evil.example)",
])
def test_md_text_leaves_nothing_active(text):
    out = md_text(text)
    assert active_markup(out) == [], out
    assert active_markup(out, allow_html=True) == [], out


def test_md_text_formatted_keeps_answer_layout_but_not_links():
    answer = f"**处五万元以上十万元以下的罚款** [1]\n\n原文:\n> 第三条 详见{IMAGE}与{PHISH} [1]\n\n1. 第一项 [2]\n- 第二项 [3]"
    out = md_text(answer, formatted=True)
    assert active_markup(out) == [], out
    assert out.startswith("**处五万元") and "\n> 第三条" in out and "\n1. 第一项" in out and "\n- 第二项" in out


def test_html_text_is_inert_even_inside_markdown():
    for text in (EVIL_TITLE, "详见 http://evil.example/bare 与 www.evil.example", "<script>alert(1)</script>"):
        out = html_text(text)
        assert active_markup(f"范围：{out} · 用时 3 ms", allow_html=True) == [], out
        assert active_markup(f'<div class="pa-passage">{out}</div>', allow_html=True) == [], out


# --------------------------------------------------------------------------- reader deep links


@pytest.mark.parametrize(("params", "shown"), [
    ({"doc": IMAGE}, "img.png"),
    ({"doc": PHISH}, "会话已过期"),
    ({"doc": WORK_POINTS, "section": IMAGE}, "img.png"),
    ({"doc": WORK_POINTS, "section": PHISH}, "会话已过期"),
    ({"chunk": PHISH}, "会话已过期"),
], ids=["doc-image", "doc-phishing-link", "section-image", "section-phishing-link", "chunk-phishing-link"])
def test_reader_deep_link_values_are_not_active_markdown(params, shown):
    """Markdown injection through reader deep links: the value is shown as text, never as link/image."""
    at = _reader(**params)
    warnings = [w.value for w in at.warning]
    assert warnings and shown in warnings[0], warnings
    assert active_in_app(at) == []


def test_reader_search_query_from_link_is_not_active_markdown():
    at = _reader(doc=WORK_POINTS, q=PHISH)
    assert any("没有找到" in i.value for i in at.info)
    assert active_in_app(at) == []


def test_reader_of_a_hostile_document_renders_titles_and_headings_inert(tmp_path, monkeypatch):
    """HTML and Markdown links in a document's title and headings (outline buttons, expanders, title,
    caption, subheader, section text) stay text."""
    monkeypatch.setenv("POLICY_ASSISTANT_CORPUS_DIRS", str(write_corpus(tmp_path / "corpus")))
    doc_id = "示例管理条例(2021-02-01)"
    at = _reader(doc=doc_id, section=f"{doc_id}#1")
    assert EVIL_TITLE.split("<")[0] in at.title[0].value
    assert at.subheader and "第一条" in at.subheader[0].value
    assert active_in_app(at) == []


# --------------------------------------------------------------------------- one answer in the chat


def _render_turn(turn_json: str) -> None:
    import json

    from policy_assistant.app_pages import sources

    sources.inject_css()
    sources.render_answer(json.loads(turn_json))


def _hostile_turn() -> dict:
    text = f"第一条 示例废渣的贮存场所应当设置标志，详见 http://{EVIL_HOST}/bare 与 [说明](http://{EVIL_HOST}/doc)。"
    cit = {"n": 1, "doc_title": EVIL_TITLE, "file": "x.md", "section": f"{EVIL_TITLE} › 第一章 › 第一条",
           "text": text, "score": 1.0, "chunk_id": "x#1", "doc_id": "x", "path": ["第一章 ![x](http://evil.example/h.png)", "第一条"],
           "quote": text, "near_miss": False, "flags": []}
    answer = {"question": PHISH, "status": "answered", "citations": [cit], "timings_ms": {"total": 3.0},
              "answer": f"**设置标志** [1]\n\n原文:\n> {text} [1]"}
    return {"id": "t1", "question": PHISH, "rewritten": IMAGE, "scope": EVIL_TITLE, "mode": "answer",
            "answer": answer, "error": None, "feedback_id": None, "max_sources": 5,
            "contexts": {"1": [{"label": "第一条", "section": cit["section"], "text": text, "cited": True,
                                "position": 1}]}}


def test_source_card_and_scope_caption_escape_a_hostile_title(tmp_path, monkeypatch):
    """HTML from a document title: the scope caption (``unsafe_allow_html``) shows ``<img …>`` as text;
    the answer, rewritten question, source card and context stay inert too."""
    monkeypatch.setenv("POLICY_ASSISTANT_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))
    at = AppTest.from_function(_render_turn, args=(json.dumps(_hostile_turn(), ensure_ascii=False),),
                               default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    scope = next(c.value for c in at.caption if "范围" in c.value)
    assert "&lt;img" in scope and "<img" not in scope
    assert active_in_app(at) == []
