"""文件管理 — administrators upload, preview, accept, replace, disable/enable and delete documents.

The page only parses input, calls ``index.manage.DocumentManager`` and draws what it returns. Changes
run in a background thread (one per server process, ``UpdateRunner``) with a progress bar; other users
keep asking questions on the last good index, and every session switches to the new version on its next
question (the Assistant cache key is the index version).
"""

from __future__ import annotations

import streamlit as st

from policy_assistant.app_pages.auth import admin_gate
from policy_assistant.app_pages.common import (
    get_settings,
    md_text,
    preload_assistant,
    show_error,
    update_runner,
)
from policy_assistant.core.errors import PolicyAssistantError
from policy_assistant.corpus.registry import STATUS_LABELS_ZH
from policy_assistant.corpus.uploads import UPLOAD_SUFFIXES, discard_staged
from policy_assistant.index.manage import DocumentManager

PREVIEWS_KEY, UPLOADER_KEY, NOTICE_KEY = "manage_previews", "manage_uploader_n", "manage_notice"
ACTION_LABELS = {"upload": "上传", "replace": "替换为新版本", "disable": "停用", "enable": "启用", "delete": "删除",
                 "update": "更新索引"}
STAGE_ZH = {"prepare": "准备", "embed": "计算段落向量", "bm25": "建立关键词索引", "write": "写入索引文件"}


def _manager(settings) -> DocumentManager:
    return DocumentManager(settings, lock_wait=5.0)


# --------------------------------------------------------------------------- running a change


def _start(settings, who: str, label: str, work) -> None:
    """Run ``work(manager, progress)`` in the background; other sessions go on answering meanwhile."""
    manager = _manager(settings)

    def after() -> None:  # load the new index into the app's cache before anyone asks
        try:
            preload_assistant(settings)
        except Exception:  # noqa: BLE001 - the next question loads it instead
            pass

    try:
        update_runner().start(label, who, lambda progress: work(manager, progress), after=after)
    except PolicyAssistantError as exc:
        st.session_state[NOTICE_KEY] = ("error", exc.message, exc.fix)


def progress_text(snap: dict) -> str:
    """``计算段落向量 120/300 · 已用 12 秒 · 预计还需 18 秒``."""
    stage = STAGE_ZH.get(snap["stage"], snap["stage"])
    parts = [f"{stage} {snap['done']}/{snap['total']}" if snap["total"] else stage,
             f"已用 {snap['elapsed_s']:.0f} 秒"]
    if snap.get("eta_s") is not None:
        parts.append(f"预计还需 {snap['eta_s']:.0f} 秒")
    return " · ".join(parts)


@st.fragment(run_every=1.0)
def _job_panel() -> None:
    """The running change (any administrator's) with its progress, or how the last one ended."""
    job = update_runner().job
    if job is None:
        return
    if job.running:
        snap = job.progress.snapshot()
        st.progress(snap["fraction"] if snap["stage"] == "embed" else 0.0 if snap["stage"] == "prepare" else 1.0,
                    text=md_text(f"{job.who} 正在{job.label}：{progress_text(snap)}"))
        st.caption("更新期间其他用户照常提问（使用更新前的索引）；完成后自动切换到新索引。")
        return
    seen = st.session_state.get("manage_seen_job")
    if seen != id(job):  # the change just ended: redraw the whole page (list, log)
        st.session_state["manage_seen_job"] = id(job)
        st.rerun(scope="app")
    if job.error is not None:
        show_error(job.error)
    elif job.result is not None:
        r = job.result.report
        what = (f"新索引已启用：{r.n_documents} 份文件，{r.n_chunks} 个段落，本次计算 {r.n_embedded} 个段落向量，"
                f"用时 {r.seconds_total:.1f} 秒。") if r else ""
        notes = "".join(f"\n\n{md_text(n)}" for n in job.result.notes)
        st.success(f"{md_text(job.who)} 的“{job.label}”已完成。{what}{notes}", icon=":material/check_circle:")


def _busy() -> bool:
    job = update_runner().job
    return job is not None and job.running


# --------------------------------------------------------------------------- upload + preview


def _previews() -> dict:
    return st.session_state.setdefault(PREVIEWS_KEY, {})


def _read_uploads(settings, files) -> None:
    """Preview every newly uploaded file once (keyed by name + size)."""
    manager = _manager(settings)
    previews = _previews()
    for f in files or []:
        key = f"{f.name}|{f.size}"
        if key not in previews:
            previews[key] = manager.preview(f.name, f.getvalue())


def _discard(keys=None) -> None:
    previews = _previews()
    for key in list(keys if keys is not None else previews):
        pv = previews.pop(key, None)
        if pv is not None and pv.staged:
            discard_staged(pv.staged)
    st.session_state[UPLOADER_KEY] = st.session_state.get(UPLOADER_KEY, 0) + 1  # a fresh, empty uploader


def _preview_card(pv) -> None:
    with st.container(border=True):
        if not pv.ok:
            st.error(f"**{md_text(pv.error)}**" + (f"\n\n解决办法 / fix: {md_text(pv.fix)}" if pv.fix else ""),
                     icon=":material/block:")
            return
        dates = " · ".join(f"{k} {v}" for k, v in pv.dates.items()) or "未识别到日期"
        st.markdown(f"**{md_text(pv.title)}**  \n{md_text(pv.doc_type)} · {md_text(dates)} · "
                    f"{pv.n_chunks} 个段落 · {md_text(pv.name)}（{pv.size / 1024:.0f} KB）")
        for w in pv.warnings:
            st.caption(f":material/warning: {md_text(w)}")
        with st.expander(f"标题结构（{len(pv.outline)} 项）", icon=":material/account_tree:"):
            st.text("\n".join("\u3000" * (depth - 1) + heading for depth, heading in pv.outline) or "（没有识别到标题）")


def _upload_section(settings, who: str, busy: bool) -> None:
    st.subheader("上传文件", anchor=False)
    n = st.session_state.get(UPLOADER_KEY, 0)
    files = st.file_uploader(
        f"可一次选择多个文件（{' '.join(UPLOAD_SUFFIXES)}，每个不超过 {settings.upload_max_mb:g} MB）",
        type=[s.lstrip(".") for s in UPLOAD_SUFFIXES], accept_multiple_files=True, key=f"uploader_{n}")
    _read_uploads(settings, files)
    previews = _previews()
    if not previews:
        return
    st.caption("预览：系统读取文件后得到的标题、类型、日期、标题结构和段落数。确认无误后点“接受并更新索引”。")
    for pv in previews.values():
        _preview_card(pv)
    good = [pv for pv in previews.values() if pv.ok]
    c1, c2 = st.columns(2)
    if c1.button(f"接受并更新索引（{len(good)} 份）", key="manage_accept", type="primary", icon=":material/done_all:",
                 disabled=busy or not good, use_container_width=True):
        st.session_state[PREVIEWS_KEY] = {}
        st.session_state[UPLOADER_KEY] = n + 1
        _start(settings, who, "上传文件", lambda m, p: m.accept(good, who, p))
        st.rerun()
    c2.button("放弃", key="manage_discard", icon=":material/close:", on_click=_discard, use_container_width=True)


# --------------------------------------------------------------------------- the document list


def _table(docs: list[dict]) -> list[dict]:
    rows = []
    for d in docs:
        status = STATUS_LABELS_ZH.get(d.get("status", "active"), d.get("status", ""))
        if not d.get("indexed"):
            status += "（未完成索引）"
        rows.append({"文件": d.get("title", ""), "类型": d.get("doc_type", ""),
                     "日期": " ".join(f"{k}{v}" for k, v in (d.get("dates") or {}).items()),
                     "段落": d.get("n_chunks", 0), "状态": status,
                     "来源": "上传" if d.get("origin") == "upload" else "文件夹",
                     "提示": "；".join(d.get("warnings") or []), "文件名": d.get("file", "")})
    return rows


def _document_actions(settings, who: str, docs: list[dict], busy: bool) -> None:
    if not docs:
        return
    ids = [d["doc_id"] for d in docs]
    labels = {d["doc_id"]: f"{d.get('title', '')}（{STATUS_LABELS_ZH.get(d.get('status', 'active'), '')}）" for d in docs}
    doc_id = st.selectbox("选择文件", ids, format_func=lambda i: labels.get(i, i), key="manage_doc")
    doc = next(d for d in docs if d["doc_id"] == doc_id)
    status = doc.get("status", "active")
    c1, c2, c3 = st.columns(3)
    if status == "active":
        if c1.button("停用", key="manage_disable", icon=":material/block:", disabled=busy, use_container_width=True,
                     help="停用后不再用于回答；可随时启用"):
            _start(settings, who, "停用文件", lambda m, p: m.set_status(doc_id, "disabled", who, p))
            st.rerun()
    elif c1.button("启用", key="manage_enable", icon=":material/check_circle:", disabled=busy, use_container_width=True,
                   help="重新用于回答" + ("（旧版恢复为有效）" if status == "superseded" else "")):
        _start(settings, who, "启用文件", lambda m, p: m.set_status(doc_id, "active", who, p))
        st.rerun()
    confirm = c3.checkbox("确认删除", key=f"manage_confirm_{doc_id}", disabled=doc.get("origin") != "upload",
                          help="只能删除上传的文件；文件夹中的文件只读，可以停用")
    if c2.button("删除", key="manage_delete", icon=":material/delete:", disabled=busy or not confirm,
                 use_container_width=True):
        _start(settings, who, "删除文件", lambda m, p: m.delete(doc_id, who, p))
        st.rerun()
    if status != "superseded":
        _replace_section(settings, who, doc, busy)


def _replace_section(settings, who: str, doc: dict, busy: bool) -> None:
    with st.expander("替换为新版本", icon=":material/published_with_changes:"):
        st.caption(md_text(f"上传《{doc.get('title', '')}》的新版本：旧版保留为“已废止/旧版”（默认不用于回答，"
                           "问答页勾选“包含已废止/旧版文件”可查）。"))
        n = st.session_state.get(UPLOADER_KEY, 0)
        f = st.file_uploader("新版本文件", type=[s.lstrip(".") for s in UPLOAD_SUFFIXES], key=f"replace_{doc['doc_id']}_{n}")
        if f is None:
            return
        previews = _previews()
        key = f"replace|{doc['doc_id']}|{f.name}|{f.size}"
        if key not in previews:
            previews[key] = _manager(settings).preview(f.name, f.getvalue())
        pv = previews[key]
        _preview_card(pv)
        if st.button("接受新版本并更新索引", key="manage_replace", type="primary", disabled=busy or not pv.ok,
                     icon=":material/published_with_changes:"):
            previews.pop(key, None)
            st.session_state[UPLOADER_KEY] = n + 1
            _start(settings, who, "替换文件", lambda m, p: m.accept([pv], who, p, replaces=doc["doc_id"]))
            st.rerun()


def _audit_section(manager: DocumentManager) -> None:
    with st.expander("操作日志", icon=":material/history:"):
        rows = [{"时间 (UTC)": a["at"].replace("T", " "), "操作人": a["who"],
                 "操作": ACTION_LABELS.get(a["action"], a["action"]), "文件": a["title"] or a["doc_id"],
                 "内容": a["detail"], "结果": "成功" if a["outcome"] == "ok" else a["outcome"],
                 "文件哈希 (SHA-256)": a["sha256"][:16]} for a in manager.audit()]
        if rows:
            st.dataframe(rows, hide_index=True, use_container_width=True)
        else:
            st.caption("还没有操作记录。")


# --------------------------------------------------------------------------- page


def main() -> None:
    settings = get_settings()
    st.title("文件管理", anchor=False)
    who = admin_gate(settings)
    if not who:
        if not settings.admin_password:
            st.info("文件管理没有启用：在 policy-assistant.toml 中设置 admin_password（或环境变量 "
                    "POLICY_ASSISTANT_ADMIN_PASSWORD）。", icon=":material/lock:")
        return
    st.caption(md_text(f"管理员：{who} · 上传的文件保存在 {settings.uploads_dir}（配置的文件夹保持只读）"))
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        show_error(notice[1], notice[2])
    _job_panel()
    busy = _busy()
    manager = _manager(settings)
    _upload_section(settings, who, busy)

    st.subheader("全部文件", anchor=False)
    try:
        docs = manager.documents()
    except PolicyAssistantError as exc:
        show_error(exc)
        docs = []
    counts = {s: sum(1 for d in docs if d.get("status") == s) for s in ("active", "superseded", "disabled")}
    st.caption(f"有效 {counts['active']} 份 · 已废止/旧版 {counts['superseded']} 份 · 已停用 {counts['disabled']} 份")
    if docs:
        st.dataframe(_table(docs), hide_index=True, use_container_width=True)
    if any(not d.get("indexed") for d in docs):
        st.warning("有文件已保存但索引更新没有完成（例如服务中途停止）。", icon=":material/sync_problem:")
    if st.button("更新索引", key="manage_update", icon=":material/sync:", disabled=busy,
                 help="让索引与文件夹和文件状态一致（中断的更新可以在这里重试）"):
        _start(settings, who, "更新索引", lambda m, p: m.update_index(who, p))
        st.rerun()
    _document_actions(settings, who, docs, busy)
    _audit_section(manager)


try:
    main()
except PolicyAssistantError as exc:
    show_error(exc)
