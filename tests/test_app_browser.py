"""A real browser against a real server: ``streamlit run app.py`` + headless Chromium via Selenium."""

from __future__ import annotations

import pytest
from app_browser import ChatPage, browser_missing_reason, running_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_missing = browser_missing_reason()
if _missing:
    pytest.skip(f"browser test skipped: {_missing}", allow_module_level=True)




def test_ask_in_browser_shows_answer_sources_and_screenshot(built_index, tmp_path, browser):
    env = {"POLICY_ASSISTANT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"), "POLICY_ASSISTANT_APP_PASSWORD": ""}
    with running_app(built_index, tmp_path / "streamlit.log", extra_env=env) as url:
        page = ChatPage(browser, timeout=90)
        load_s = page.open(url)
        assert "政策助手" in browser.title
        answer_s = page.ask("PM2.5年均浓度目标是多少?")
        last = page.last_answer()
        assert "已找到" in last["text"], last["text"][:500]
        assert "39" in last["text"]
        assert last["sources"], "no source rendered"
        assert last["marks"] >= 1, "the quoted sentence is not highlighted"

        # a follow-up in context
        page.ask("那臭氧呢?")
        follow = page.last_answer()
        assert "结合上文理解为" in follow["text"] and "臭氧" in follow["text"]

        shot = tmp_path / "app_chat.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        print(f"page ready {load_s:.2f}s, answer {answer_s:.2f}s, screenshot {shot}")
