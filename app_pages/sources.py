"""Drawing one answer: status badge, answer text, numbered sources with highlights, context, feedback."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from policy_assistant.answer.types import FLAG_LABELS_ZH
from policy_assistant.app_pages.common import (
    READER_PAGE,
    STATUS_BADGES,
    anchor_id,
    citation_links,
    citation_numbers,
    escape_html,
    get_settings,
    group_citations,
    highlight_html,
    html_text,
    md_text,
    visible_citations,
)
from policy_assistant.eval.feedback import FeedbackError, FeedbackStore

CSS = """
<style>
.pa-passage {line-height: 1.75; border-left: 3px solid #2e7d32; padding: .15rem 0 .15rem .8rem;
             margin: .2rem 0 .45rem 0;}
.pa-passage mark.pa-quote, .pa-ctx mark.pa-quote {background: #ffe98a; color: inherit; padding: 0 .1rem;
             border-radius: 3px;}
.pa-ctx {line-height: 1.7; padding: .3rem .6rem; margin: .15rem 0; border-radius: 6px; color: #555;}
.pa-ctx.cited {background: #f1f8e9; color: inherit; border: 1px solid #c5e1a5;}
.pa-ctx .pa-label {font-weight: 600; margin-right: .4rem;}
.pa-passage.near {border-left-color: #bdbdbd; color: #555;}
.pa-passage.near mark.pa-quote {background: #eeeeee;}
.pa-src-head {margin-bottom: .1rem;}
.pa-src-title {font-weight: 600;}
.pa-crumb {color: #6b6f76; font-size: .85rem; margin: .1rem 0 .5rem 0;}
.pa-n {color: #2e7d32; font-weight: 600; margin-right: .35rem;}
.pa-near {color: #8a6d00; font-size: .85rem; margin-left: .4rem;}
.pa-flag {color: #b71c1c; background: #fdecea; border-radius: 4px; font-size: .85rem; padding: .15rem .5rem;
          margin: 0 0 .45rem 0;}
</style>
"""


def inject_css() -> None:
    st.html(CSS)


@st.cache_resource(show_spinner=False)
def feedback_store(path: str) -> FeedbackStore:
    return FeedbackStore(path)


# --------------------------------------------------------------------------- answer + sources


def render_answer(turn: dict) -> None:
    ans = turn["answer"] or {}
    if turn.get("rewritten"):
        st.caption(f":material/subdirectory_arrow_right: 结合上文理解为：**{md_text(turn['rewritten'])}**")
    if turn.get("mode") == "passages":
        st.badge("仅检索段落", color="blue", icon=":material/manage_search:")
    else:
        label, color, icon = STATUS_BADGES.get(ans.get("status"), (ans.get("status", ""), "gray", ""))
        # badge and answer in one element: fewer elements per turn keep long conversations fast
        answer = citation_links(md_text(ans.get("answer", ""), formatted=True), turn["id"])
        st.markdown(f":{color}-badge[{icon} {label}]\n\n{answer}")
    cits = visible_citations(turn)
    t = ans.get("timings_ms") or {}
    meta = [f"范围：{html_text(turn['scope'])}"] if turn.get("scope") else []  # a document title
    meta.append(f"用时 {t.get('total', 0):.0f} ms")
    if turn.get("mode") == "passages" and not cits:
        st.info("没有检索到段落。", icon=":material/search_off:")
    if cits:
        st.markdown(f"**来源（{len(cits)}）**" if turn.get("mode") != "passages" else f"**检索到的段落（{len(cits)}）**")
        groups = group_citations(cits)
        shown = max(1, int(turn.get("max_sources") or len(groups)))
        for items in groups[:shown]:
            _render_group(turn, items)
        rest = groups[shown:]
        if rest:  # more sources than the sidebar asks to show: keep them one click away
            n_rest = sum(len(items) for items in rest)
            with st.expander(f"其余 {n_rest} 个来源", icon=":material/more_horiz:"):
                for items in rest:
                    _render_group(turn, items, compact=True)
    st.caption(" · ".join(meta) + '<span class="pa-done"></span>', unsafe_allow_html=True)  # end-of-turn marker
    if turn.get("mode") == "answer":
        _render_feedback(turn)


def _render_group(turn: dict, items: list[dict], compact: bool = False) -> None:
    """One source card: a citation, or a run of short citations under the same heading."""
    first = items[0]
    path = first.get("path") or []
    with st.container(border=True, key=f"src_{turn['id']}_{first['n']}"):
        near = '<span class="pa-near">相关参考 · 未直接回答</span>' if first.get("near_miss") else ""
        crumb = (" › ".join(path) if path else first.get("section", "")) if len(items) == 1 else " › ".join(path[:-1])
        anchors = "".join(f'<span id="{anchor_id(turn["id"], c["n"])}"></span>' for c in items)
        rows = [f'<div class="pa-src-head">{anchors}<span class="pa-src-title">{citation_numbers(items)} '
                f'{html_text(first.get("doc_title", ""))}</span>{near}</div>',
                f'<div class="pa-crumb">{html_text(crumb)}</div>']
        cls = "pa-passage near" if first.get("near_miss") else "pa-passage"
        for c in items:
            num = f'<span class="pa-n">[{c["n"]}]</span>' if len(items) > 1 else ""
            rows.append(f'<div class="{cls}">{num}{highlight_html(c.get("text", ""), c.get("quote", ""))}</div>')
            rows += [f'<div class="pa-flag">⚠ {html_text(FLAG_LABELS_ZH.get(f, f))}</div>' for f in c.get("flags") or ()]
        st.markdown("".join(rows), unsafe_allow_html=True)  # one element per card keeps reruns light
        _reader_link(first)  # one click from the card into the document
        if compact:  # inside an expander already (expanders cannot nest)
            return
        ctx = _merged_context(turn, items)
        with st.expander("查看完整章节（上下文）", icon=":material/menu_book:"):
            if ctx:
                head = " › ".join(path[:-1]) if len(path) > 1 else first.get("doc_title", "")
                rows = [f'<div class="pa-crumb">{escape_html(head)}</div>']
                for item in ctx:
                    body, quote, label = item["text"], item.get("quote", ""), item["label"]
                    if label and body.startswith(label):  # "第四十一条 第四十一条 …" reads badly
                        body = body[len(label):].lstrip()
                        if quote.startswith(label):
                            quote = quote[len(label):].lstrip()
                    text = highlight_html(body, quote) if item["cited"] else escape_html(body)
                    rows.append(f'<div class="pa-ctx{" cited" if item["cited"] else ""}">'
                                f'<span class="pa-label">{escape_html(item["label"])}</span>{text}</div>')
                st.markdown("".join(rows), unsafe_allow_html=True)


def _merged_context(turn: dict, items: list[dict]) -> list[dict]:
    """The stored section contexts of the cards' citations, merged in document order."""
    merged: dict[tuple, dict] = {}
    for c in items:
        for item in (turn.get("contexts") or {}).get(str(c["n"])) or []:
            key = (item.get("position"), item["text"])
            entry = merged.setdefault(key, dict(item, cited=False, quote=""))
            if item["cited"]:
                entry["cited"], entry["quote"] = True, c.get("quote", "")
    return sorted(merged.values(), key=lambda d: (d.get("position") is None, d.get("position") or 0))


def _reader_link(c: dict) -> None:
    """Deep link into the 文件阅读 page (issue 7), which reads ``doc`` and ``chunk`` from the query string."""
    try:
        st.page_link(READER_PAGE, label="在文件阅读中打开", icon=":material/open_in_new:",
                     query_params={"doc": c.get("doc_id", ""), "chunk": c.get("chunk_id", "")})
    except StreamlitAPIException:  # drawn outside the app's navigation (a page run on its own, tests)
        pass


# --------------------------------------------------------------------------- feedback


def _store() -> FeedbackStore:
    return feedback_store(str(get_settings().feedback_db))


def _feedback_call(turn: dict, action, thanks: str, icon: str) -> None:
    """Run one write to the feedback log; a failure becomes a one-line warning under the turn, never
    Streamlit's exception screen (the answer and the conversation stay as they were)."""
    try:
        action(_store())
    except FeedbackError as exc:
        st.session_state[f"feedback_error_{turn['id']}"] = f"{exc.message} — {exc.fix}"
        return
    st.toast(thanks, icon=icon)


def _save_turn(store: FeedbackStore, turn: dict, **change) -> None:
    """Update the turn's row; record it (with its rating and comment so far) when it has none yet or the
    row went away with a deleted log."""
    if turn.get("feedback_id") and store.update(turn["feedback_id"], **change):
        return
    turn["feedback_id"] = store.record(turn["answer"], rating=turn.get("rating"), comment=turn.get("comment", ""),
                                       scope={"scope": turn.get("scope", "")})


def _on_rating(turn: dict) -> None:
    value = st.session_state.get(f"fb_{turn['id']}")
    if value is None:
        return
    rating = "up" if value == 1 else "down"

    def save(store: FeedbackStore) -> None:
        turn["rating"] = rating
        _save_turn(store, turn, rating=rating)

    _feedback_call(turn, save, "感谢反馈，已记录。",
                   ":material/thumb_up:" if rating == "up" else ":material/thumb_down:")


def _on_comment(turn: dict) -> None:
    comment = (st.session_state.get(f"fbc_{turn['id']}") or "").strip()
    if not turn.get("feedback_id"):
        return

    def save(store: FeedbackStore) -> None:
        turn["comment"] = comment
        _save_turn(store, turn, comment=comment)

    _feedback_call(turn, save, "说明已保存。", ":material/check:")


def _render_feedback(turn: dict) -> None:
    st.feedback("thumbs", key=f"fb_{turn['id']}", on_change=_on_rating, args=(turn,))
    if turn.get("feedback_id"):
        with st.form(f"fbf_{turn['id']}", border=False, enter_to_submit=True):
            c1, c2 = st.columns([5, 1], vertical_alignment="bottom")
            c1.text_input("补充说明（可选）", key=f"fbc_{turn['id']}", placeholder="补充说明（可选）：哪里不对、缺了什么…",
                          label_visibility="collapsed")
            c2.form_submit_button("提交说明", on_click=_on_comment, args=(turn,))
    err = st.session_state.pop(f"feedback_error_{turn['id']}", None)
    if err:
        st.warning(md_text(err), icon=":material/warning:")  # the path may hold Markdown characters
