"""政策助手 — Streamlit entry point: page config, optional password, navigation.

Run with ``policy-assistant app`` (or ``streamlit run app.py --server.address 127.0.0.1``).
Pages live in ``app_pages/``; the reader and quiz pages are added automatically when their files exist.
"""

from __future__ import annotations

import streamlit as st

from app_pages.common import (
    APP_DIR,
    APP_ICON,
    APP_TITLE,
    CHAT_PAGE,
    QUIZ_PAGE,
    READER_PAGE,
    get_settings,
    password_gate,
)

st.set_page_config(page_title=APP_TITLE, page_icon=APP_ICON, layout="wide", initial_sidebar_state="expanded")

settings = get_settings()
if not password_gate(settings):
    st.stop()

pages = [st.Page(CHAT_PAGE, title="问答", icon=":material/forum:", url_path="chat", default=True)]
if (APP_DIR / READER_PAGE).is_file():
    pages.append(st.Page(READER_PAGE, title="文件阅读", icon=":material/menu_book:", url_path="reader"))
if (APP_DIR / QUIZ_PAGE).is_file():
    pages.append(st.Page(QUIZ_PAGE, title="自测", icon=":material/quiz:", url_path="quiz"))

st.navigation(pages).run()
