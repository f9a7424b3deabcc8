"""问答 — the chat page: ask, read the answer, check every source in one click, rate it."""

from __future__ import annotations

import time
import uuid

import streamlit as st

from policy_assistant.app_pages import conversations, sources
from policy_assistant.app_pages.common import (
    APP_AVATAR,
    APP_TITLE,
    PENDING_QUESTION_KEY,
    SCOPE_NOTICE_KEY,
    assistant_in_scope,
    conversation_markdown,
    document_choices,
    get_assistant,
    get_settings,
    index_info,
    md_text,
    retriever_of,
    section_context,
    show_error,
    stale_index_notice,
)
from policy_assistant.core.errors import PolicyAssistantError

EXAMPLES = [  # (icon, kind, question): a figure, a list, a who-leads, a law penalty
    (":material/query_stats:", "指标", "PM2.5年均浓度目标是多少?"),
    (":material/format_list_numbered:", "清单", "七大示范工程有哪些?"),
    (":material/account_balance:", "牵头单位", "谁牵头铊污染专项治理攻坚行动?"),
    (":material/gavel:", "法律责任", "未取得排污许可证排污罚多少?"),
]
SCOPES = ["全部文件", "工作要点", "法律法规", "指定文件"]
LAW_TYPES = ["法律", "行政法规", "司法解释"]
MAX_HISTORY_TURNS = 3  # previous answers handed to the follow-up rewrite


def _turns() -> list[dict]:
    return st.session_state.setdefault("turns", [])


def _ask_example(question: str) -> None:
    st.session_state[PENDING_QUESTION_KEY] = question


def _clear() -> None:
    """A new, empty conversation (the old one stays in the history list)."""
    conversations.start_new()
    for key in [k for k in st.session_state if str(k).startswith(("fb_", "fbc_"))]:
        del st.session_state[key]


# --------------------------------------------------------------------------- sidebar


def _keep(key: str) -> None:
    """Copy a sidebar widget's value to a plain key: Streamlit drops widget state while another page runs."""
    st.session_state[f"keep_{key}"] = st.session_state.get(key)


def _kept(key: str, default):
    value = st.session_state.get(f"keep_{key}")
    return default if value is None else value


def _sidebar(settings, assistant) -> dict:
    if _kept("include_superseded", False):
        assistant = assistant_in_scope(assistant, include_superseded=True)
    docs = document_choices(assistant)
    with st.sidebar:
        st.subheader("检索设置")
        scope = st.radio("检索范围", SCOPES, key="scope", help="只在所选文件中查找答案",
                         index=SCOPES.index(_kept("scope", SCOPES[0])), on_change=_keep, args=("scope",))
        doc = None
        if scope == "指定文件":
            if docs:
                titles = {d["doc_id"]: d["title"] + ("（已废止/旧版）" if d.get("status") == "superseded" else "")
                          for d in docs}
                ids = list(titles)
                kept = _kept("scope_doc", ids[0])
                doc_id = st.selectbox("选择文件", ids, key="scope_doc", format_func=titles.get,
                                      index=ids.index(kept) if kept in ids else 0,
                                      on_change=_keep, args=("scope_doc",))
                doc = next(d for d in docs if d["doc_id"] == doc_id)
            else:
                st.caption("索引中没有文件。")
        top_k = st.slider("来源数量", 1, 10, value=int(_kept("top_k", settings.top_k)), key="top_k",
                          on_change=_keep, args=("top_k",),
                          help="每个回答完整显示的来源数；回答引用的其余来源收在“其余来源”里")
        passages_only = st.toggle("仅显示检索到的段落", key="passages_only", value=bool(_kept("passages_only", False)),
                                  on_change=_keep, args=("passages_only",),
                                  help="不生成回答，只列出检索到的原文段落")
        old_versions = st.checkbox("包含已废止/旧版文件", key="include_superseded",
                                   value=bool(_kept("include_superseded", False)),
                                   on_change=_keep, args=("include_superseded",),
                                   help="默认只在有效文件中查找；勾选后也查找被新版本替换的旧版文件")

        st.divider()
        buttons = st.empty()  # filled at the end of the run, so it includes the turn just answered

        info = index_info(assistant)
        with st.expander("文件与索引信息", icon=":material/info:"):
            st.markdown(
                f"- 文件：**{info['documents']}** 份\n- 段落：**{info['chunks']}** 个\n"
                f"- 建立时间：{md_text(info['built_at'] or '未知')}\n- 向量模型：{md_text(info['embedder'] or '未知')}\n"
                f"- 回答方式：{md_text(settings.answerer)}"
                + (f"\n- 加载用时：{info['load_seconds']:.1f} 秒" if info.get("load_seconds") else "")
            )
            if docs:
                st.caption(md_text("、".join(d["title"] for d in docs)))

    opts = _scope_options(scope, doc, docs)
    opts.update(top_k=top_k, passages_only=passages_only, buttons=buttons, include_superseded=old_versions)
    if old_versions:
        opts["label"] = "、".join(x for x in (opts["label"] or "全部文件", "含已废止/旧版") if x)
    return opts


def _conversation_buttons(slot) -> None:
    turns = _turns()
    with slot.container():
        c1, c2 = st.columns(2)
        c1.button("新对话", icon=":material/add_comment:", on_click=_clear, disabled=not turns,
                  use_container_width=True, key="clear_chat", help="开始新的对话；当前对话保留在“历史对话”中")
        c2.download_button(
            "导出对话", data=conversation_markdown(turns).encode("utf-8"), icon=":material/download:",
            file_name=f"政策助手对话-{time.strftime('%Y%m%d-%H%M')}.md", mime="text/markdown",
            disabled=not turns, use_container_width=True, key="export_md", on_click="ignore",
        )


def _scope_options(scope: str, doc: dict | None, docs: list[dict]) -> dict:
    if scope == "工作要点":
        return {"label": "工作要点", "doc_types": ["工作要点"], "doc_ids": None}
    if scope == "法律法规":
        return {"label": "法律法规", "doc_types": LAW_TYPES, "doc_ids": None}
    if scope == "指定文件" and doc:
        return {"label": doc["title"], "doc_types": None, "doc_ids": [doc["doc_id"]]}
    return {"label": "", "doc_types": None, "doc_ids": None}


# --------------------------------------------------------------------------- answering


def _history(turns: list[dict]) -> list:
    from policy_assistant.answer.types import Answer

    done = [t for t in turns if t.get("answer") and t.get("mode") == "answer"]
    return [Answer.from_dict(t["answer"]) for t in done[-MAX_HISTORY_TURNS:]]


def _retrieve_only(assistant, question: str, opts: dict) -> dict:
    from policy_assistant.answer.injection import passage_flags

    started = time.perf_counter()
    hits = retriever_of(assistant).search(question, k=opts["top_k"], doc_ids=opts["doc_ids"],
                                          doc_types=opts["doc_types"])
    ms = (time.perf_counter() - started) * 1000
    cits = []
    for h in hits:
        c = h.chunk
        cits.append({"n": h.rank, "doc_title": c.doc_title, "file": c.file, "section": c.section,
                     "text": c.text, "score": float(h.score), "chunk_id": c.chunk_id, "doc_id": c.doc_id,
                     "path": list(c.path), "quote": "", "near_miss": False, "flags": passage_flags(c.text)})
    return {"question": question, "status": "retrieved", "answer": "", "citations": cits,
            "timings_ms": {"retrieve": ms, "answer": 0.0, "total": ms}}


def _answer(assistant, question: str, opts: dict) -> dict:
    """One new turn: rewrite a follow-up, then answer (or only retrieve)."""
    turns = _turns()
    turn = {"id": uuid.uuid4().hex[:12], "question": question, "rewritten": None, "scope": opts["label"],
            "include_superseded": bool(opts.get("include_superseded")),
            "mode": "passages" if opts["passages_only"] else "answer", "answer": None, "error": None,
            "contexts": {}, "feedback_id": None, "max_sources": opts["top_k"]}
    try:
        history = _history(turns)
        if history:
            rewritten = assistant.rewrite_followup(question, history)
            if rewritten and rewritten.strip() != question.strip():
                turn["rewritten"] = rewritten
        effective = turn["rewritten"] or question
        if turn["mode"] == "passages":
            ans = _retrieve_only(assistant, effective, opts)
        else:
            ans = assistant.ask(effective, doc_ids=opts["doc_ids"], doc_types=opts["doc_types"],
                                top_k=opts["top_k"]).to_dict()
        ans["question"] = question  # what the user typed; the rewritten form is kept beside it
        if turn["rewritten"]:
            ans["rewritten_question"] = turn["rewritten"]
        turn["answer"] = ans
        chunks = getattr(retriever_of(assistant), "chunks", None) or []
        for c in ans.get("citations", []):
            ctx = section_context(chunks, c)
            turn["contexts"][str(c["n"])] = [
                {"label": ch.path[-1] if ch.path else ch.doc_title, "section": ch.section, "text": ch.text,
                 "cited": cited, "position": ch.position}
                for ch, cited in ctx
            ]
    except PolicyAssistantError as exc:
        turn["error"] = {"message": exc.message, "fix": exc.fix}
    except Exception as exc:  # noqa: BLE001 - a user must never see a traceback
        turn["error"] = {"message": f"回答时出现内部错误（{type(exc).__name__}）。",
                         "fix": "请换一种问法再试；若反复出现，请把问题发给维护人员（服务器日志中有详细信息）。"}
        import logging

        logging.getLogger("policy_assistant.app").exception("answering %r failed", question)
    return turn


# --------------------------------------------------------------------------- page


def _render_turn(turn: dict) -> None:
    with st.chat_message("user", avatar=":material/person:"):
        st.markdown(md_text(turn["question"]))
    with st.chat_message("assistant", avatar=APP_AVATAR):
        _render_body(turn)


def _render_body(turn: dict) -> None:
    if turn.get("error"):
        err = turn["error"]
        st.warning(f"**{md_text(err['message'])}**" + (f"\n\n{md_text(err['fix'])}" if err.get("fix") else ""),
                   icon=":material/warning:")
        st.caption('未能回答<span class="pa-done"></span>', unsafe_allow_html=True)
        return
    sources.render_answer(turn)


def _empty_state() -> None:
    st.markdown(
        "向我提问衡阳市2021年生态环境保护工作要点和国家生态环境法律法规的内容。"
        "每个回答都标注来源 **[n]**，点开即可核对原文。"
    )
    st.markdown("**试试这些问题：**")
    cols = st.columns(2)
    for i, (icon, kind, q) in enumerate(EXAMPLES):
        cols[i % 2].button(f"{kind}：{q}", icon=icon, key=f"example_{i}", on_click=_ask_example, args=(q,),
                           use_container_width=True)


def main() -> None:
    sources.inject_css()
    settings = get_settings()
    st.title(f"{APP_AVATAR} {APP_TITLE}")
    st.caption("生态环境政策问答 · 回答只来自文件原文 · 点击来源核对")

    # The page (title, examples, input) is drawn before the index and models load, so a new user can
    # read and type while the first start finishes; a question sent meanwhile waits for the load.
    typed = st.chat_input("请输入问题，例如：PM2.5年均浓度目标是多少？", max_chars=2000)
    question = typed or st.session_state.pop(PENDING_QUESTION_KEY, None)
    conversations.restore(settings)  # the conversation named in the URL (?c=…) survives a refresh
    turns = _turns()
    if not turns and not question:
        _empty_state()
    assistant = get_assistant(settings)
    stale_index_notice(settings, assistant)
    opts = _sidebar(settings, assistant)
    if opts.get("include_superseded"):
        assistant = assistant_in_scope(assistant, include_superseded=True)
    notice = st.session_state.pop(SCOPE_NOTICE_KEY, None)
    if notice:  # names a document title
        st.info(md_text(notice), icon=":material/filter_alt:")
    for turn in turns:
        _render_turn(turn)
    if question and question.strip():
        with st.chat_message("user", avatar=":material/person:"):
            st.markdown(md_text(question))
        with st.chat_message("assistant", avatar=APP_AVATAR):
            with st.spinner("正在查找文件并组织回答…"):
                turn = _answer(assistant, question, opts)
            turns.append(turn)
            conversations.save(settings)
            _render_body(turn)
    elif question is not None and not question.strip():
        show_error("问题是空的。", "请输入一个问题。")
    _conversation_buttons(opts["buttons"])
    conversations.sidebar(settings)


try:
    main()
except PolicyAssistantError as exc:
    show_error(exc)
