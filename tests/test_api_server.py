"""Issue 14 item 5: the HTTP API, against a real ``policy-assistant serve`` process on 127.0.0.1 over the real
index (``built_index``), driven by the official ``openai`` client and by plain HTTP.

The server runs with an API key and a 64 KB body limit, so the same process shows the key check and the
limits; every error must be one JSON line naming the problem and the fix, never a traceback.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from app_browser import browser_missing_reason, settings_env, wait_for

from policy_assistant.api.launch import running_server

pytestmark = [pytest.mark.slow]

KEY = "test-key-0123456789-abcdef"
MAX_BODY = 65536
Q_PM25 = "PM2.5年均浓度目标是多少?"


@pytest.fixture(scope="module")
def server(built_index, tmp_path_factory):
    log = tmp_path_factory.mktemp("api-server") / "server.log"
    env = {**settings_env(built_index), "POLICY_ASSISTANT_API_KEY": KEY,
           "POLICY_ASSISTANT_API_MAX_BODY_BYTES": str(MAX_BODY), "POLICY_ASSISTANT_API_MODEL": "政策助手-test"}
    with running_server(env=env, log_path=log) as srv:
        yield srv
    assert "Traceback" not in srv.log(), srv.log()[-3000:]


@pytest.fixture(scope="module")
def client(server):
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=server.url + "/v1", api_key=KEY, max_retries=0, timeout=60)


def call(server, method: str, path: str, body=None, *, key: str | None = KEY, raw: bytes | None = None,
         headers: dict | None = None) -> tuple[int, dict, dict]:
    """``(status, JSON body, headers)`` of one request."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode("utf-8"))
    req = urllib.request.Request(server.url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)


def assert_one_line_error(status: int, body: dict, expected: int, *words: str) -> None:
    assert status == expected, (status, body)
    err = body["error"]
    assert err["code"] == expected and err["fix"], err
    assert "\n" not in err["message"] and "Traceback" not in json.dumps(body, ensure_ascii=False)
    assert err["fix"] in err["message"], err  # clients that show only `message` see the fix too
    for w in words:
        assert w in err["message"], (w, err["message"])


# --------------------------------------------------------------------------- the openai client


def test_openai_client_gets_the_answer_with_its_citations(client):
    resp = client.chat.completions.create(model="anything", messages=[{"role": "user", "content": Q_PM25}])
    assert resp.model == "政策助手-test"
    content = resp.choices[0].message.content
    assert resp.choices[0].finish_reason == "stop"
    assert "39" in content and "来源:" in content
    assert resp.citations, "the response carries the citations"
    first = resp.citations[0]
    assert "工作要点" in first["doc_title"] and "二、主要目标" in first["section"]
    assert f"[{first['n']}] {first['section']}" in content  # the sources block names the cited section
    assert resp.policy_assistant["status"] == "answered"
    assert resp.usage.total_tokens > 0


def test_openai_client_streams_the_same_reply_and_ends_with_the_citations(client):
    whole = client.chat.completions.create(model="m", messages=[{"role": "user", "content": Q_PM25}])
    stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": Q_PM25}],
                                            stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    with_choices = [c for c in chunks if c.choices]
    assert len(with_choices) > 3, "the content arrives in pieces"
    assert with_choices[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in with_choices)
    assert text == whole.choices[0].message.content
    final = with_choices[-1]
    assert final.choices[0].finish_reason == "stop"
    assert [c["section"] for c in final.citations] == [c["section"] for c in whole.citations]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == len(text)


def test_openai_chat_history_makes_follow_ups_self_contained(client):
    """Earlier user/assistant turns are the history; a chain of follow-ups keeps its subject."""
    first = client.chat.completions.create(model="m", messages=[
        {"role": "user", "content": "2021年PM2.5年均浓度目标是多少?"}])
    messages = [{"role": "system", "content": "你是政策助手"},
                {"role": "user", "content": "2021年PM2.5年均浓度目标是多少?"},
                {"role": "assistant", "content": first.choices[0].message.content},
                {"role": "user", "content": "那臭氧呢?"},
                {"role": "assistant", "content": "……"},
                {"role": "user", "content": [{"type": "text", "text": "那重污染天数呢?"}]}]
    resp = client.chat.completions.create(model="m", messages=messages)
    rewritten = resp.policy_assistant.get("rewritten_question") or ""
    assert "重污染天数" in rewritten and "2021" in rewritten and "臭氧" not in rewritten, rewritten
    assert "3天" in resp.choices[0].message.content


def test_openai_client_with_a_wrong_key_is_refused(server):
    openai = pytest.importorskip("openai")
    bad = openai.OpenAI(base_url=server.url + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        bad.chat.completions.create(model="m", messages=[{"role": "user", "content": Q_PM25}])
    assert "API key is wrong" in str(info.value)


def test_openai_client_sees_input_errors_with_the_fix(client):
    openai = pytest.importorskip("openai")
    with pytest.raises(openai.UnprocessableEntityError) as info:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "？？"}])
    assert "no words to search for" in str(info.value) and "—" in str(info.value)
    with pytest.raises(openai.UnprocessableEntityError) as info:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": Q_PM25},
                                                             {"role": "assistant", "content": "…"}])
    assert "last message" in str(info.value)
    assert [m.id for m in client.models.list()] == ["政策助手-test"]


# --------------------------------------------------------------------------- /v1/ask, /v1/search, /v1/documents


def test_ask_answers_with_the_ask_json_contract(server, built_index):
    """POST /v1/ask returns what `policy-assistant ask --json` prints for the same question."""
    question = "未取得排污许可证排污罚多少?"
    status, body, headers = call(server, "POST", "/v1/ask", {"question": question})
    assert status == 200, body
    cli = subprocess.run([sys.executable, "-m", "policy_assistant", "ask", "--json", question],
                         env={**os.environ, **settings_env(built_index)}, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)
    for d in (body, expected):
        d.pop("timings_ms")
    assert body == expected
    assert body["status"] == "answered" and body["citations"]
    assert headers["x-index-version"] == server.health()[1]["index_version"]


def test_ask_restricted_to_a_document_and_with_history(server):
    status, body, _ = call(server, "POST", "/v1/ask", {"question": "罚款多少?", "doc_ids": ["排污许可管理条例"]})
    assert status == 200, body
    assert body["citations"] and all("排污许可管理条例" in c["doc_title"] for c in body["citations"])
    first = call(server, "POST", "/v1/ask", {"question": "2021年PM2.5年均浓度目标是多少?"})[1]
    status, body, _ = call(server, "POST", "/v1/ask", {"question": "那臭氧呢?", "history": [first]})
    assert status == 200 and "臭氧" in body["rewritten_question"] and "2021" in body["rewritten_question"]
    status, body, _ = call(server, "POST", "/v1/ask", {"question": "那臭氧呢?",
                                                       "history": [{"question": first["question"]}]})
    assert status == 200 and "臭氧" in body["rewritten_question"]


def test_search_and_documents(server):
    status, body, _ = call(server, "POST", "/v1/search", {"query": "PM2.5年均浓度目标", "k": 3})
    assert status == 200 and body["mode"] == "hybrid" and len(body["hits"]) == 3
    assert [h["rank"] for h in body["hits"]] == [1, 2, 3] and "二、主要目标" in body["hits"][0]["section"]
    status, body, _ = call(server, "POST", "/v1/search", {"query": "罚款", "doc_ids": ["排污许可管理条例"],
                                                          "mode": "bm25", "k": 5})
    assert status == 200 and body["hits"] and {h["doc_id"] for h in body["hits"]} == {"排污许可管理条例(2021-01-24)"}
    status, body, _ = call(server, "GET", "/v1/documents")
    assert status == 200 and len(body["documents"]) == 20
    titles = {d["title"] for d in body["documents"]}
    assert "衡阳市2021年生态环境保护工作要点" in titles
    assert all("source_path" not in d for d in body["documents"]), "the server's file paths stay private"
    assert body["index_version"] == server.health()[1]["index_version"]


def test_health_docs_and_schema_need_no_key(server):
    status, health = server.health()
    assert status == 200 and health["status"] == "ok"
    assert health["n_documents"] == 20 and health["n_chunks"] > 1000 and health["stale"] is False
    status, schema, _ = call(server, "GET", "/openapi.json", key=None)
    assert status == 200 and {"/v1/ask", "/v1/search", "/v1/documents", "/healthz",
                              "/v1/chat/completions"} <= set(schema["paths"])
    with urllib.request.urlopen(server.url + "/docs", timeout=10) as r:
        page = r.read().decode()
    assert "/docs-assets/swagger-ui-bundle.js" in page and "cdn." not in page  # served offline
    with urllib.request.urlopen(server.url + "/docs-assets/swagger-ui-bundle.js", timeout=10) as r:
        assert r.status == 200 and len(r.read()) > 100_000


@pytest.mark.browser
@pytest.mark.skipif(browser_missing_reason() is not None, reason=str(browser_missing_reason()))
def test_docs_page_renders_in_a_browser_without_the_internet(server, browser):
    """Swagger UI draws every endpoint from the files the server ships (no CDN is reachable here)."""
    browser.get(server.url + "/docs")
    paths = wait_for(browser, lambda d: [e.text for e in d.find_elements("css selector", ".opblock-summary-path")
                                         ] if len(d.find_elements("css selector", ".opblock")) >= 6 else None,
                     timeout=60, what="the endpoints in Swagger UI")
    assert {"/v1/ask", "/v1/chat/completions", "/v1/search", "/v1/documents", "/healthz"} <= set(paths)
    assert "政策助手 API" in browser.find_element("css selector", ".title").text


# --------------------------------------------------------------------------- refusals


def test_the_api_key_is_required(server):
    for path, method, body in [("/v1/ask", "POST", {"question": Q_PM25}), ("/v1/documents", "GET", None),
                               ("/v1/search", "POST", {"query": "PM2.5"}),
                               ("/v1/chat/completions", "POST", {"messages": [{"role": "user", "content": "x"}]})]:
        status, resp, headers = call(server, method, path, body, key=None)
        assert_one_line_error(status, resp, 401, "needs an API key", "Authorization: Bearer")
        assert headers.get("www-authenticate") == "Bearer"
    status, resp, _ = call(server, "POST", "/v1/ask", {"question": Q_PM25}, key=KEY + "x")
    assert_one_line_error(status, resp, 401, "API key is wrong")
    status, resp, _ = call(server, "POST", "/v1/ask", {"question": Q_PM25}, key=None,
                           headers={"Authorization": f"Basic {KEY}"})
    assert_one_line_error(status, resp, 401, "API key is wrong")


def test_bad_input_gets_one_line_errors(server):
    status, body, _ = call(server, "POST", "/v1/ask", {"question": "   "})
    assert_one_line_error(status, body, 422, "question is empty")
    status, body, _ = call(server, "POST", "/v1/ask", {"question": "排" * 1001})
    assert_one_line_error(status, body, 422, "too long", "1001", "1000")
    status, body, _ = call(server, "POST", "/v1/ask", raw=b'{"question": "PM2.5')
    assert_one_line_error(status, body, 422, "not valid JSON")
    status, body, _ = call(server, "POST", "/v1/ask", {"questoin": Q_PM25})
    assert_one_line_error(status, body, 422, "question", "more problem")
    status, body, _ = call(server, "POST", "/v1/ask", {"question": Q_PM25, "doc_ids": ["没有这个文件"]})
    assert_one_line_error(status, body, 404, "没有这个文件")
    status, body, _ = call(server, "POST", "/v1/search", {"query": "PM2.5", "doc_types": ["小说"]})
    assert_one_line_error(status, body, 404, "小说")
    status, body, _ = call(server, "GET", "/v1/nothing-here")
    assert_one_line_error(status, body, 404, "/v1/nothing-here")
    status, body, _ = call(server, "GET", "/v1/ask")
    assert_one_line_error(status, body, 405, "GET")
    assert server.proc.poll() is None


def test_request_bodies_over_the_limit_get_413(server):
    big = {"question": Q_PM25, "history": [{"question": "问" * 3000}] * 10}
    status, body, _ = call(server, "POST", "/v1/ask", big)
    assert_one_line_error(status, body, 413, "too large", str(MAX_BODY))
    # a chunked body (no Content-Length) is cut off as soon as it passes the limit
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    payload = json.dumps(big).encode()
    conn.putrequest("POST", "/v1/ask")
    conn.putheader("Authorization", f"Bearer {KEY}")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    try:
        for i in range(0, len(payload), 8192):
            part = payload[i:i + 8192]
            conn.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before the whole body is sent
    resp = conn.getresponse()
    assert_one_line_error(resp.status, json.loads(resp.read()), 413, "too large (over")
    conn.close()
    status, body, _ = call(server, "POST", "/v1/ask", {"question": Q_PM25})  # still serving
    assert status == 200


def test_concurrent_requests_get_the_same_answers(server):
    questions = [Q_PM25, "七大示范工程有哪些?", "未取得排污许可证排污罚多少?", "环境保护法什么时候施行?"] * 3
    sequential = {q: call(server, "POST", "/v1/ask", {"question": q})[1]["answer"] for q in set(questions)}
    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        results = list(pool.map(lambda q: call(server, "POST", "/v1/ask", {"question": q}), questions))
    assert [r[0] for r in results] == [200] * len(questions)
    assert [r[1]["answer"] for r in results] == [sequential[q] for q in questions]
