"""政策助手 — Streamlit entry point: page config, optional password, navigation.

``policy-assistant app`` runs this file (it ships inside the installed package, so the app starts
from a wheel in any directory); ``app.py`` at the top of the checkout calls :func:`main` too.
"""

from __future__ import annotations

import streamlit as st

from policy_assistant.app_pages.auth import password_gate
from policy_assistant.app_pages.common import (
    APP_ICON,
    APP_TITLE,
    CHAT_PAGE,
    MANAGE_PAGE,
    QUIZ_PAGE,
    READER_PAGE,
    get_settings,
)
from policy_assistant.app_pages.links import READER_URL_PATH


def main() -> None:
    """Draw the current page (Streamlit re-runs this on every interaction)."""
    st.set_page_config(page_title=APP_TITLE, page_icon=APP_ICON, layout="wide", initial_sidebar_state="expanded")
    settings = get_settings()
    if not password_gate(settings):
        st.stop()
    pages = [
        st.Page(CHAT_PAGE, title="问答", icon=":material/forum:", url_path="chat", default=True),
        st.Page(READER_PAGE, title="文件阅读", icon=":material/menu_book:", url_path=READER_URL_PATH),
        st.Page(QUIZ_PAGE, title="自测", icon=":material/quiz:", url_path="quiz"),
    ]
    if settings.admin_password:  # the administrators' page exists only when it has a password
        pages.append(st.Page(MANAGE_PAGE, title="文件管理", icon=":material/folder_managed:", url_path="manage"))
    st.navigation(pages).run()


if __name__ == "__main__":  # `streamlit run …/app_pages/main.py`
    main()
