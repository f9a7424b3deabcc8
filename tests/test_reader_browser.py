"""A real browser: a citation in the chat opens the reader at the cited section, and back to the chat.

``streamlit run app.py`` on a free localhost port (real index from the ``built_index`` fixture), driven by
Debian's headless Chromium through Selenium (helpers shared with the chat's browser test).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from app_browser import ChatPage, browser_missing_reason, running_app
from app_browser import wait_for as _wait

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_missing = browser_missing_reason()
if _missing:
    pytest.skip(f"browser test skipped: {_missing}", allow_module_level=True)

LAST_MESSAGE = "const m = Array.from(document.querySelectorAll('[data-testid=\"stChatMessage\"]')).pop();"




def test_chat_citation_opens_reader_at_section(built_index, tmp_path, browser):
    env = {"POLICY_ASSISTANT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"), "POLICY_ASSISTANT_APP_PASSWORD": ""}
    with running_app(built_index, tmp_path / "streamlit.log", extra_env=env) as url:
        chat = ChatPage(browser, timeout=90)
        chat.open(url)
        chat.ask("排污许可证有效期为几年?")
        # the turn is redrawn from history after answering: wait until its sources are on the page
        _wait(browser, lambda d: chat.last_answer()["sources"] and d.execute_script(
            LAST_MESSAGE + "return !!m.querySelector('.pa-passage');"), what="the answer's sources")

        # the first source: remember its passage, open the context expander, follow "在文件阅读中打开"
        passage = browser.execute_script(LAST_MESSAGE + "return m.querySelector('.pa-passage').innerText;")
        browser.execute_script(LAST_MESSAGE + "m.querySelector('[data-testid=\"stExpander\"] summary').click();")
        link = _wait(browser, lambda d: d.execute_script(
            LAST_MESSAGE + "const a = m.querySelector('a[data-testid=\"stPageLink-NavLink\"]');"
            "return a && a.offsetParent !== null ? a : null;"), what="the reader link in the source")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", link)

        _wait(browser, lambda d: "/reader" in d.current_url and "doc=" in d.current_url, what="the reader URL")
        params = parse_qs(urlparse(browser.current_url).query)
        cited = (params.get("section") or params.get("chunk"))[0]
        selected = _wait(browser, lambda d: d.execute_script(
            "const s = document.querySelector('.pa-reader .pa-t.sel'); return s ? s.innerText : null;"),
            what="the cited section highlighted in the reader")
        assert passage.strip()[:12] in selected.replace("\n", ""), (passage[:80], selected[:200])
        heading = browser.execute_script(
            "return Array.from(document.querySelectorAll('h3')).map(h => h.innerText).join('|');")
        assert "第十四条" in heading or "第十四条" in selected, heading
        assert "#" in cited  # the chat links by chunk id
        browser.save_screenshot(str(tmp_path / "reader_from_citation.png"))

        # "ask about this section" goes back to the chat with the section's question answered
        _wait(browser, lambda d: d.execute_script(  # the chat's elements are gone once the reader run finishes
            "return document.querySelectorAll('[data-testid=\"stChatMessage\"]').length === 0;"), what="reader")
        ask = _wait(browser, lambda d: next((b for b in d.find_elements("css selector", "button")
                                             if "就此节提问" in b.text), None), what="the ask button")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", ask)
        _wait(browser, lambda d: "/chat" in d.current_url or urlparse(d.current_url).path in ("", "/"),
              what="the chat page")
        _wait(browser, lambda d: d.execute_script(
            "return Array.from(document.querySelectorAll('[data-testid=\"stChatMessage\"]'))"
            ".some(m => m.innerText.includes('规定了什么'));"), timeout=90, what="the section question in the chat")
        _wait(browser, lambda d: chat._finished_turns() >= 1, timeout=90, what="the answer to the section question")
        shot = tmp_path / "chat_from_reader.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000


def test_reader_deep_link_in_browser(built_index, tmp_path, browser):
    env = {"POLICY_ASSISTANT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"), "POLICY_ASSISTANT_APP_PASSWORD": ""}
    with running_app(built_index, tmp_path / "streamlit.log", extra_env=env) as url:
        browser.get(url + "reader?doc=衡阳市2021年生态环境保护工作要点&section=附件1")
        text = _wait(browser, lambda d: d.execute_script(
            "const s = document.querySelector('.pa-reader'); return s ? s.innerText : null;"), timeout=90,
            what="the reader section")
        assert "七大示范工程" in text and "生态环境队伍作风建设年攻坚行动" in text
        _wait(browser, lambda d: any("就此节提问" in b.text for b in d.find_elements("css selector", "button")),
              what="the page to finish drawing")
        body = browser.find_element("css selector", "body").text
        assert "工作要点速览" in body
        browser.save_screenshot(str(tmp_path / "reader_deep_link.png"))
