"""文件阅读 — read a document as a clean outline, search it, open a cited section, ask about it.

Deep links: ``?doc=<doc_id>&section=<chunk_id | breadcrumb | heading>`` (``chunk=`` works too, ``q=`` fills
the search box), so a citation in the chat opens the reader at that section. The page only needs the
corpus (no index), loaded once per process by ``training.outline.load_corpus_cached``.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from policy_assistant.app_pages.common import (
    CHAT_PAGE,
    PENDING_QUESTION_KEY,
    SCOPE_NOTICE_KEY,
    get_settings,
    html_text,
    md_text,
    show_error,
)
from policy_assistant.app_pages.text import highlight_query_html, mark_spans_html
from policy_assistant.core.errors import PolicyAssistantError
from policy_assistant.corpus.completeness import incomplete_note
from policy_assistant.corpus.model import BREADCRUMB_SEP
from policy_assistant.corpus.registry import STATUS_LABELS_ZH, read_statuses
from policy_assistant.training import outline as ol

DOC_KEY, SECTION_KEY, QUERY_KEY, ALL_KEY = "reader_doc", "reader_section", "reader_q", "reader_search_all"
APPLIED_KEY = "reader_link_applied"
MAX_RESULTS = 40

CSS = """
<style>
.pa-reader {line-height: 1.85; font-size: 1.02rem;}
.pa-reader .pa-h {font-weight: 650; margin: .9rem 0 .25rem 0;}
.pa-reader .pa-h.d0 {font-size: 1.15rem;} .pa-reader .pa-h.d1 {font-size: 1.05rem;}
.pa-reader .pa-t {margin: .2rem 0 .5rem 0;}
.pa-reader .pa-t.sel {background: #f1f8e9; border-left: 3px solid #2e7d32; padding: .2rem .6rem;}
mark.pa-hit {background: #ffe98a; color: inherit; padding: 0 .1rem; border-radius: 3px;}
.pa-snip {line-height: 1.7; color: #333;}
.pa-card-line {line-height: 1.75;}
.pa-card-line b {color: #1b5e20;}
</style>
"""


# --------------------------------------------------------------------------- state helpers


def _corpus():
    settings = get_settings()
    try:
        with st.spinner("正在读取文件…"):
            return ol.load_corpus_cached(settings)
    except PolicyAssistantError as exc:
        show_error(exc)
        st.stop()


def _link_value(corpus, doc, key: str) -> str:
    path = ol.key_path(key)
    return (ol.first_chunk_id(doc, path, corpus.chunks) if path else "") or key


def _select(corpus, doc_id: str, key: str = "") -> None:
    """Open ``key`` (a section path key; "" = whole document) of ``doc_id`` and mirror it in the URL."""
    st.session_state[DOC_KEY] = doc_id
    st.session_state[SECTION_KEY] = key
    doc = next(d for d in corpus.documents if d.doc_id == doc_id)
    params = {"doc": doc_id}
    if key:
        params["section"] = _link_value(corpus, doc, key)
    st.query_params.from_dict(params)
    st.session_state[APPLIED_KEY] = (params.get("doc"), params.get("section"))


def _apply_deep_link(corpus) -> None:
    """Open the document/section named in the URL (once per distinct link)."""
    qp = st.query_params
    doc_param = qp.get("doc") or ""
    sec_param = qp.get("section") or qp.get("chunk") or ""
    if not doc_param and not sec_param:
        return
    sig = (doc_param or None, sec_param or None)
    if st.session_state.get(APPLIED_KEY) == sig:
        return
    st.session_state[APPLIED_KEY] = sig
    doc = next((d for d in corpus.documents if d.doc_id == doc_param), None)
    if doc is None and doc_param:
        try:
            doc = corpus.find_document(doc_param)
        except PolicyAssistantError:
            doc = None
    if doc is None and sec_param:
        doc = ol.doc_of_chunk_id(corpus, sec_param)
    if doc is None:
        st.session_state["reader_link_error"] = f"链接中的文件“{doc_param or sec_param}”不存在，已打开第一份文件。"
        return
    path = ol.resolve_section(doc, corpus.chunks, sec_param) if sec_param else ()
    if path is None:
        st.session_state["reader_link_error"] = f"在《{doc.title}》中没有找到章节“{sec_param}”，显示全文。"
        path = ()
    st.session_state[DOC_KEY] = doc.doc_id
    st.session_state[SECTION_KEY] = ol.path_key(path)
    if qp.get("q"):
        st.session_state[QUERY_KEY] = qp.get("q")


def _status_labels(settings) -> dict[str, str]:
    """``（已废止/旧版）`` / ``（已停用）`` for documents the 文件管理 page took out of answers."""
    try:
        statuses = read_statuses(settings.documents_db)
    except PolicyAssistantError:
        return {}
    return {d: f"（{STATUS_LABELS_ZH[s]}）" for d, s in statuses.items() if s in ("superseded", "disabled")}


def _on_doc_change(corpus) -> None:
    _select(corpus, st.session_state[DOC_KEY], "")


# --------------------------------------------------------------------------- sidebar: document + outline


def _sidebar(corpus, docs, doc, outline, current: str) -> None:
    with st.sidebar:
        labels = _status_labels(get_settings())
        st.selectbox("文件", [d.doc_id for d in docs], key=DOC_KEY,
                     format_func=lambda i: next(d.title for d in docs if d.doc_id == i) + labels.get(i, ""),
                     on_change=_on_doc_change, args=(corpus,))
        st.caption("目录")
        st.button("▸ 全文" if not current else "全文", key="ol_all", type="tertiary",
                  on_click=_select, args=(corpus, doc.doc_id, ""))
        tops = [i for i, e in enumerate(outline) if e.depth == 1]
        for n, i in enumerate(tops):
            entry = outline[i]
            end = tops[n + 1] if n + 1 < len(tops) else len(outline)
            children = outline[i + 1:end]
            if not children:
                _outline_button(corpus, doc, entry, current, i)
                continue
            inside = current == entry.key or current.startswith(entry.key + BREADCRUMB_SEP)
            with st.expander(md_text(entry.display), expanded=inside):
                _outline_button(corpus, doc, entry, current, i, label="本节全文")
                for j, child in enumerate(children, start=i + 1):
                    _outline_button(corpus, doc, child, current, j)


def _outline_button(corpus, doc, entry, current: str, i: int, label: str | None = None) -> None:
    text = label or ("\u3000" * max(0, entry.depth - 2) + md_text(entry.display))
    if entry.key == current:
        text = "▸ " + text
    st.button(text, key=f"ol_{i}", type="tertiary", on_click=_select, args=(corpus, doc.doc_id, entry.key),
              help=md_text(entry.key))


# --------------------------------------------------------------------------- summary card


def _card_button(corpus, doc, entry, key: str) -> None:
    st.button("查看原文", key=key, type="tertiary", icon=":material/open_in_new:", on_click=_select,
              args=(corpus, doc.doc_id, entry.key))


def _summary_card(corpus, doc, expanded: bool) -> None:
    card = ol.summary_card(doc, corpus.chunks)
    if card is None:
        return
    with st.expander("工作要点速览：主要目标 · 七大示范工程 · 八大攻坚行动 · 专家工作室", expanded=expanded,
                     icon=":material/dashboard:"):
        tabs = st.tabs([f"主要目标（{len(card.targets)}）", f"七大示范工程（{len(card.projects)}）",
                        f"八大攻坚行动（{len(card.actions)}）", f"专家工作室（{len(card.studios)}）"])
        with tabs[0]:
            for i, t in enumerate(card.targets):
                parts = []
                for clause, figs in t.clauses:
                    h = html_text(clause)
                    for f in dict.fromkeys(figs):
                        h = h.replace(html_text(f), f"<b>{html_text(f)}</b>")
                    parts.append(h)
                c1, c2 = st.columns([6, 1], vertical_alignment="center")
                c1.markdown(f'<div class="pa-card-line"><b>{html_text(t.path[-1])}</b>：{"；".join(parts)}</div>',
                            unsafe_allow_html=True)
                with c2:
                    _card_button(corpus, doc, t, f"card_t_{i}")
        for tab, entries, prefix in ((tabs[1], card.projects, "p"), (tabs[2], card.actions, "a"),
                                     (tabs[3], card.studios, "s")):
            with tab:
                if not entries:
                    st.caption("文件中没有这一部分。")
                for i, e in enumerate(entries):
                    c1, c2 = st.columns([6, 1], vertical_alignment="center")
                    detail = f'<br><span style="color:#666">{html_text(e.detail[:90])}…</span>' if e.detail else ""
                    c1.markdown(f'<div class="pa-card-line">{i + 1}. {html_text(e.text)}{detail}</div>',
                                unsafe_allow_html=True)
                    with c2:
                        _card_button(corpus, doc, e, f"card_{prefix}_{i}")


# --------------------------------------------------------------------------- search


def _search(corpus, doc, query: str) -> None:
    docs = ol.ordered_documents(corpus) if st.session_state.get(ALL_KEY) else [doc]
    matches = []
    for d in docs:
        matches += ol.search_document(d, query, limit=MAX_RESULTS)
    total = sum(m.count for m in matches)
    if not matches:
        st.info(md_text(f"没有找到“{query}”。"), icon=":material/search_off:")
        return
    st.caption(f"找到 {total} 处，{len(matches)} 个章节" + ("（只显示前 40 个）" if len(matches) > MAX_RESULTS else ""))
    with st.container(height=320 if len(matches) > 4 else "content", key="reader_results"):
        for i, m in enumerate(matches[:MAX_RESULTS]):
            c1, c2 = st.columns([6, 1], vertical_alignment="center")
            where = m.breadcrumb if len(docs) > 1 else BREADCRUMB_SEP.join(m.path)
            c1.markdown(f'<div class="pa-snip"><small>{html_text(where)}</small><br>{mark_spans_html(m.snippet, m.snippet_spans, "pa-hit")}</div>',
                        unsafe_allow_html=True)
            c2.button("打开", key=f"hit_{i}", type="tertiary", on_click=_select, args=(corpus, m.doc_id, m.key))


# --------------------------------------------------------------------------- section view


def _section_html(doc, key: str, query: str) -> str:
    path = ol.key_path(key)
    rows = []
    for b in ol.section_blocks(doc, path):
        d = min(b["depth"], 2)
        if b["heading"]:
            heading = highlight_query_html(b["heading"], query)
            rows.append(f'<div class="pa-h d{d}">{heading}</div>')
        if b["text"]:
            text = highlight_query_html(b["text"], query)
            sel = " sel" if path and b["path"] == path and b["kind"] not in ("heading", "chapter") else ""
            rows.append(f'<div class="pa-t{sel}">{text}</div>')
    return '<div class="pa-reader">' + "".join(rows) + "</div>"


def _ask(doc, path) -> None:
    if not path:
        # A whole document has no one passage that answers "what is it about": the chat would quote
        # its first item as if it were a summary. Scope the chat to the document and let the user ask.
        for key, value in (("scope", "指定文件"), ("scope_doc", doc.doc_id)):
            st.session_state[key] = st.session_state[f"keep_{key}"] = value
        st.session_state[SCOPE_NOTICE_KEY] = f"检索范围已设为《{doc.title}》。请输入关于这份文件的问题，例如它规定了哪些要求、由谁负责。"
        message = f"已把问答的检索范围设为《{doc.title}》，请在「问答」页面输入问题。"
    else:
        question = ol.ask_about(doc, path)
        st.session_state[PENDING_QUESTION_KEY] = question
        message = f"问题已准备好：“{question}”。请打开「问答」页面查看回答。"
    try:
        st.switch_page(CHAT_PAGE)
    except StreamlitAPIException:  # the page runs on its own (tests, `streamlit run app_pages/reader.py`)
        st.info(md_text(message), icon=":material/forum:")


def _section_view(corpus, doc, outline, key: str, query: str) -> None:
    path = ol.key_path(key)
    crumb = BREADCRUMB_SEP.join((doc.title, *path))
    st.subheader(md_text(path[-1]) if path else "全文", anchor=False)
    st.caption(md_text(crumb))
    prev, nxt = ol.neighbours(outline, key) if key else (None, outline[0] if outline else None)
    c1, c2, c3 = st.columns([1, 1, 2])
    c1.button("上一节", key="reader_prev", icon=":material/arrow_back:", disabled=prev is None,
              on_click=_select, args=(corpus, doc.doc_id, prev.key if prev else ""), use_container_width=True)
    c2.button("下一节", key="reader_next", icon=":material/arrow_forward:", disabled=nxt is None,
              on_click=_select, args=(corpus, doc.doc_id, nxt.key if nxt else ""), use_container_width=True)
    if c3.button("就此节提问" if path else "就此文件提问", key="reader_ask", icon=":material/forum:", type="primary",
                 use_container_width=True, help=None if path else "把问答的检索范围设为这份文件"):
        _ask(doc, path)
    st.markdown(_section_html(doc, key, query), unsafe_allow_html=True)


# --------------------------------------------------------------------------- page


def _document_notes(doc) -> None:
    """Banners for a copy that may be incomplete and for text read by OCR (both from ingest)."""
    note = incomplete_note(doc)
    if note:
        st.warning(md_text(note), icon=":material/report:")
    if doc.ocr:
        pages = doc.ocr.get("pages_ocr") or []
        sure = doc.ocr.get("mean_confidence")
        st.caption(md_text(f"本文件有 {len(pages)} 页由 OCR 从扫描图像识别"
                           + (f"（平均置信度 {sure:.2f}）" if sure is not None else "")
                           + "，人名、数字请与原件核对。"))



def main() -> None:
    st.html(CSS)
    corpus = _corpus()
    docs = ol.ordered_documents(corpus)
    if not docs:
        show_error("没有可阅读的文件。", "检查配置中的 corpus_dirs。")
        st.stop()
    _apply_deep_link(corpus)
    ids = [d.doc_id for d in docs]
    if st.session_state.get(DOC_KEY) not in ids:
        st.session_state[DOC_KEY] = ids[0]
    doc = docs[ids.index(st.session_state[DOC_KEY])]
    outline = ol.document_outline(doc, corpus.chunks)
    key = st.session_state.get(SECTION_KEY, "")
    if key and key not in {e.key for e in outline}:
        key = st.session_state[SECTION_KEY] = ""

    _sidebar(corpus, docs, doc, outline, key)

    st.title(f"文件阅读 · {md_text(doc.title)}", anchor=False)
    dates = " · ".join(f"{k}{v}" for k, v in doc.dates.items())
    st.caption(md_text(" · ".join(x for x in (doc.doc_type, doc.issuer or "", dates) if x)))
    _document_notes(doc)
    err = st.session_state.pop("reader_link_error", None)
    if err:  # quotes the link's doc/section values: user-controlled
        st.warning(md_text(err), icon=":material/link_off:")

    _summary_card(corpus, doc, expanded=not key)

    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    query = c1.text_input("搜索", key=QUERY_KEY, placeholder="输入关键词，例如：排污许可、PM2.5、铊", icon=":material/search:")
    c2.toggle("全部文件", key=ALL_KEY, help="在所有文件中搜索")
    query = (query or "").strip()
    if query:
        _search(corpus, doc, query)

    _section_view(corpus, doc, outline, key, query)


try:
    main()
except PolicyAssistantError as exc:
    show_error(exc)
