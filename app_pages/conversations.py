"""The chat's conversations in the page: restore the one in the URL, save each turn, the history sidebar.

Storage is ``app_pages/history.py`` (SQLite, no Streamlit). A failing store never breaks the chat: the
page shows one warning and goes on without saving.
"""

from __future__ import annotations

import streamlit as st

from policy_assistant.app_pages.history import ConversationStore, new_token, valid_token
from policy_assistant.app_pages.text import md_text
from policy_assistant.core.errors import PolicyAssistantError

BROWSER_COOKIE = "pa_browser"  # set by app_pages/server.py (policy-assistant app)
CONV_KEY, LOADED_KEY, OWNER_KEY = "conv_id", "conv_loaded", "browser_token"
ERROR_KEY = "conv_error"


@st.cache_resource(show_spinner=False)
def _store(path: str) -> ConversationStore:
    return ConversationStore(path)


def _open_store(settings) -> ConversationStore | None:
    try:
        return _store(str(settings.conversations_db))
    except PolicyAssistantError as exc:
        st.session_state[ERROR_KEY] = f"{exc.message} — {exc.fix}"
        return None


def owner() -> str:
    """This browser's token: the server's cookie, else a ``u`` query parameter kept in the URL."""
    try:
        cookie = st.context.cookies.get(BROWSER_COOKIE)
    except Exception:  # noqa: BLE001 - no request context (tests): fall back to the URL
        cookie = None
    if valid_token(cookie):
        return cookie
    token = st.query_params.get("u")
    if not valid_token(token):
        token = st.session_state.get(OWNER_KEY) or new_token()
    st.session_state[OWNER_KEY] = token
    if st.query_params.get("u") != token:
        st.query_params["u"] = token
    return token


def _conv_id() -> str:
    conv = st.session_state.get(CONV_KEY)
    if not valid_token(conv):
        conv = st.session_state[CONV_KEY] = new_token()
    return conv


def restore(settings) -> None:
    """Open the conversation the URL names (once per id), and keep the current id in the URL."""
    me = owner()
    wanted = st.query_params.get("c")
    if valid_token(wanted) and wanted != st.session_state.get(LOADED_KEY):
        store = _open_store(settings)
        row = None
        if store is not None:
            try:
                row = store.load(wanted)
            except PolicyAssistantError as exc:
                st.session_state[ERROR_KEY] = f"{exc.message} — {exc.fix}"
        if row is not None and row["owner"] == me:
            st.session_state["turns"] = row["turns"]
            st.session_state[CONV_KEY] = wanted
        st.session_state[LOADED_KEY] = wanted
    conv = _conv_id()
    if st.query_params.get("c") != conv:
        st.query_params["c"] = conv
        st.session_state[LOADED_KEY] = conv


def save(settings) -> None:
    """Store the current conversation's turns."""
    store = _open_store(settings)
    if store is None:
        return
    try:
        store.save(_conv_id(), owner(), st.session_state.get("turns", []))
    except PolicyAssistantError as exc:
        st.session_state[ERROR_KEY] = f"{exc.message} — {exc.fix}"


def start_new() -> None:
    """A new empty conversation (callback: no page run in progress)."""
    st.session_state["turns"] = []
    conv = st.session_state[CONV_KEY] = new_token()
    st.session_state[LOADED_KEY] = conv
    st.query_params["c"] = conv


def _open(conv_id: str) -> None:
    st.query_params["c"] = conv_id  # restore() loads it on the rerun


def _delete(settings, conv_id: str) -> None:
    store = _open_store(settings)
    if store is not None:
        try:
            store.delete(conv_id, owner())
        except PolicyAssistantError as exc:
            st.session_state[ERROR_KEY] = f"{exc.message} — {exc.fix}"
    if conv_id == st.session_state.get(CONV_KEY):
        start_new()


def _rename(settings, conv_id: str) -> None:
    title = st.session_state.get(f"conv_title_{conv_id}", "")
    store = _open_store(settings)
    if store is not None:
        try:
            store.rename(conv_id, owner(), title)
        except PolicyAssistantError as exc:
            st.session_state[ERROR_KEY] = f"{exc.message} — {exc.fix}"


def sidebar(settings) -> None:
    """历史对话: this browser's conversations — open, rename, delete."""
    store = _open_store(settings)
    rows = []
    if store is not None:
        try:
            rows = store.list(owner())
        except PolicyAssistantError as exc:
            st.session_state[ERROR_KEY] = f"{exc.message} — {exc.fix}"
    current = st.session_state.get(CONV_KEY)
    with st.sidebar:
        err = st.session_state.pop(ERROR_KEY, None)
        if err:  # names a file path
            st.warning(md_text(f"对话记录无法保存：{err}"), icon=":material/warning:")
        if not rows:
            return
        with st.expander(f"历史对话（{len(rows)}）", icon=":material/history:", expanded=False):
            for row in rows:
                cid = row["id"]
                mark = "▸ " if cid == current else ""
                label = f"{mark}{md_text(row['title'])}"
                st.button(label, key=f"conv_open_{cid}", type="tertiary", on_click=_open, args=(cid,),
                          help=f"{row['n_turns']} 个问题 · {row['updated_at'][:16].replace('T', ' ')} (UTC)")
                c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
                c1.text_input("新名称", key=f"conv_title_{cid}", placeholder="新名称", label_visibility="collapsed")
                c2.button("", icon=":material/edit:", key=f"conv_rename_{cid}", help="重命名",
                          on_click=_rename, args=(settings, cid))
                c3.button("", icon=":material/delete:", key=f"conv_delete_{cid}", help="删除这个对话",
                          on_click=_delete, args=(settings, cid))
