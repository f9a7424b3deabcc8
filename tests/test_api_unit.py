"""Issue 14 item 5, the parts of the HTTP API below the routes: the per-process Assistant that follows index
swaps (real index, real builds), the chat message mapping, the SSE stream format, the API key check and
``policy-assistant serve``'s refusals (one line, exit status 2, before anything loads).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket

import pytest
from conftest import CORPUS

from policy_assistant.answer.types import Answer, Citation
from policy_assistant.api import chat
from policy_assistant.api.errors import AuthError, check_key, check_key_setting, key_matches
from policy_assistant.api.launch import running_server
from policy_assistant.api.schemas import ChatMessage
from policy_assistant.api.service import AssistantHolder
from policy_assistant.cli import main
from policy_assistant.cli.serve_cmd import bind_warning
from policy_assistant.core.errors import ConfigError, IndexMissingError

SOME_DOCS = ["衡阳市2021年生态环境保护工作要点.txt", "排污许可管理条例(2021-01-24).docx", "噪声污染防治法(2021-12-24).md"]


# --------------------------------------------------------------------------- the Assistant follows the index


@pytest.fixture
def own_index(built_index, tmp_path):
    """Settings over a private copy of the real index (so builds here swap versions under a holder)."""
    index_dir = tmp_path / "index"
    shutil.copytree(built_index.index_dir, index_dir, ignore=shutil.ignore_patterns(".build.lock", ".tmp-*"))
    return dataclasses.replace(built_index, index_dir=index_dir)


def _corpus_of(tmp_path, names: list[str]):
    folder = tmp_path / f"corpus-{len(names)}"
    folder.mkdir()
    for name in names:
        shutil.copy2(CORPUS / name, folder / name)
    return folder


@pytest.mark.slow
def test_holder_loads_a_new_index_version_once_and_keeps_a_good_one_over_a_damaged_one(own_index, tmp_path):
    from policy_assistant.index.build import build_index
    from policy_assistant.index.store import current_dir

    holder = AssistantHolder(own_index, background=False)
    first = holder.get()
    assert len(first.assistant.retriever.documents) == 20 and holder.loads == 1
    assert holder.get() is first and holder.loads == 1, "no reload while the version is the same"

    # a build swaps in a version with three documents (their vectors are reused: nothing is embedded)
    build_index(dataclasses.replace(own_index, corpus_dirs=[_corpus_of(tmp_path, SOME_DOCS)]))
    second = holder.get()
    assert second.version != first.version and holder.loads == 2
    assert len(second.assistant.retriever.documents) == 3
    assert second.assistant.retriever.embedder is first.assistant.retriever.embedder, "the model is not reloaded"
    ans = second.assistant.ask("PM2.5年均浓度目标是多少?")
    assert ans.status == "answered" and "39" in ans.answer

    # a version whose files are damaged is not used: the Assistant loaded before keeps answering, and the
    # damaged version is not loaded again on every request
    build_index(dataclasses.replace(own_index, corpus_dirs=[_corpus_of(tmp_path, SOME_DOCS[:2])]))
    with open(current_dir(own_index.index_dir) / "chunks.jsonl", "a", encoding="utf-8") as f:
        f.write('{"damaged": true}\n')
    assert holder.get() is second and holder.get() is second
    assert holder._failed is not None and holder.loads == 2


@pytest.mark.slow
def test_holder_swaps_in_the_background_without_pausing_requests(own_index, tmp_path):
    """After a build, requests are answered from the old version until the new one is loaded."""
    import time

    from policy_assistant.index.build import build_index

    holder = AssistantHolder(own_index)
    first = holder.get()
    build_index(dataclasses.replace(own_index, corpus_dirs=[_corpus_of(tmp_path, SOME_DOCS)]))
    t0 = time.perf_counter()
    assert holder.get() is first and time.perf_counter() - t0 < 0.5  # the load runs in a thread
    holder.wait_for_reload(120)
    second = holder.get()
    assert second.version != first.version and len(second.assistant.retriever.documents) == 3
    assert holder.loads == 2


def test_holder_without_an_index_names_the_fix(tmp_path, built_index):
    holder = AssistantHolder(dataclasses.replace(built_index, index_dir=tmp_path / "nothing"))
    with pytest.raises(IndexMissingError) as info:
        holder.get()
    assert "index build" in info.value.fix
    assert holder.preload() is None  # logged, not raised: the server still starts and says why


@pytest.mark.slow
def test_server_without_an_index_starts_and_reports_it(tmp_path, built_index):
    """healthz and the routes answer 503 with the fix (`index build`) instead of failing to start."""
    import urllib.error
    import urllib.request

    from app_browser import settings_env

    env = {**settings_env(built_index), "POLICY_ASSISTANT_INDEX_DIR": str(tmp_path / "no-index")}
    with running_server(env=env, log_path=tmp_path / "server.log") as srv:
        status, body = srv.health()
        assert status == 503 and body["status"] == "unavailable"
        assert "no index" in body["error"]["message"] and "index build" in body["error"]["fix"]
        req = urllib.request.Request(srv.url + "/v1/ask", data=b'{"question": "PM2.5?"}', method="POST",
                                     headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=30)
        assert info.value.code == 503 and "index build" in json.loads(info.value.read())["error"]["fix"]
    assert "Traceback" not in srv.log()


# --------------------------------------------------------------------------- chat mapping and stream


def _msg(role, content):
    return ChatMessage(role=role, content=content)


def test_chat_messages_become_question_and_history():
    question, turns = chat.conversation([
        _msg("system", "你是政策助手"),
        _msg("user", "2021年PM2.5年均浓度目标是多少?"),
        _msg("assistant", "控制在39ug/m3以下 [1]\n\n来源:\n- [1] 衡阳市… › 二、主要目标\n  (一)空气环境质量…"),
        _msg("user", "那臭氧呢?"),
        _msg("user", [{"type": "text", "text": "那重污染"}, {"type": "image_url", "image_url": {}},
                      {"type": "text", "text": "天数呢?"}]),
    ])
    assert question == "那重污染天数呢?"
    assert turns == [{"question": "2021年PM2.5年均浓度目标是多少?", "answer": "控制在39ug/m3以下 [1]"},
                     {"question": "那臭氧呢?"}]


def test_chat_refuses_a_conversation_that_does_not_end_with_the_user():
    from policy_assistant.core.errors import QuestionError

    with pytest.raises(QuestionError, match="not the user"):
        chat.conversation([_msg("user", "问题"), _msg("assistant", "回答")])


def _answer() -> Answer:
    cits = [Citation(n=1, doc_title="T", file="t.md", section="T › 第一章 › 第三条", text="第一句。\n第二句。",
                     score=0.5, near_miss=False),
            Citation(n=2, doc_title="U", file="u.md", section="U › 第九条", text="相近。", score=0.1, near_miss=True)]
    return Answer(question="问?", status="answered", answer="第一句。第二句！最后 [1]\n\n原文:\n> 第一句。 [1]",
                  citations=cits)


def test_stream_is_openai_sse_with_the_citations_at_the_end():
    events = list(chat.stream(_answer(), "m", include_usage=True))
    assert all(e.startswith("data: ") and e.endswith("\n\n") for e in events)
    assert events[-1] == "data: [DONE]\n\n"
    bodies = [json.loads(e[6:]) for e in events[:-1]]
    assert {b["object"] for b in bodies} == {"chat.completion.chunk"} and len({b["id"] for b in bodies}) == 1
    assert bodies[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    pieces = [b["choices"][0]["delta"].get("content", "") for b in bodies if b["choices"]]
    content = chat.reply_content(_answer())
    assert "".join(pieces) == content and len(pieces) > 4
    final = [b for b in bodies if b["choices"]][-1]
    assert final["choices"][0]["finish_reason"] == "stop" and [c["n"] for c in final["citations"]] == [1, 2]
    assert final["policy_assistant"]["status"] == "answered"
    assert bodies[-1]["choices"] == [] and bodies[-1]["usage"]["completion_tokens"] == len(content)


def test_reply_content_lists_the_sources_as_markdown():
    content = chat.reply_content(_answer())
    assert content.startswith("第一句。第二句！最后 [1]")
    lines = content.split("来源:\n", 1)[1].splitlines()
    assert lines[0] == "- [1] T › 第一章 › 第三条" and lines[1] == "  第一句。 第二句。"
    assert lines[2].startswith("- [2] U › 第九条 (相近内容")
    assert not any(line.startswith("    ") for line in content.splitlines()), "no indented code blocks"


def test_completion_object_shape():
    body = chat.completion(_answer(), "政策助手")
    assert body["object"] == "chat.completion" and body["model"] == "政策助手"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": chat.reply_content(_answer())}
    assert [c["section"] for c in body["citations"]] == ["T › 第一章 › 第三条", "U › 第九条"]


# --------------------------------------------------------------------------- key, binding, serve refusals


def test_api_key_check():
    assert key_matches("Bearer abc123", "abc123") and key_matches("bearer abc123", "abc123")
    assert not key_matches("Bearer abc1234", "abc123") and not key_matches("Basic abc123", "abc123")
    assert not key_matches("abc123", "abc123") and not key_matches(None, "abc123")
    check_key(None, "")  # no key configured: open
    with pytest.raises(AuthError, match="needs an API key"):
        check_key(None, "abc123")
    with pytest.raises(AuthError, match="wrong"):
        check_key("Bearer nope", "abc123")
    check_key_setting("abc-123_XYZ")
    for bad in ("密钥", "has space", " padded"):
        with pytest.raises(ConfigError, match="ASCII"):
            check_key_setting(bad)


def test_bind_warning_only_for_other_hosts_without_a_key():
    assert bind_warning("127.0.0.1", "") is None and bind_warning("localhost", "") is None
    assert bind_warning("::1", "") is None and bind_warning("0.0.0.0", "k") is None
    warning = bind_warning("0.0.0.0", "")
    assert warning and "without an API key" in warning and "POLICY_ASSISTANT_API_KEY" in warning


def test_serve_refusals_are_one_line_with_exit_status_2(tmp_path, monkeypatch, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--index-dir", str(tmp_path / "idx"), "serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"cannot listen on 127.0.0.1:{port}" in err[0] and "choose another --port" in err[0]

    monkeypatch.setenv("POLICY_ASSISTANT_API_KEY", "密钥")
    assert main(["--index-dir", str(tmp_path / "idx"), "serve"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "api_key must be printable ASCII" in err[0]
    monkeypatch.delenv("POLICY_ASSISTANT_API_KEY")
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port must be between" in capsys.readouterr().err
