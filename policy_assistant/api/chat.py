"""OpenAI-compatible chat completions: messages in, the Assistant's answer out, with its citations.

The last message is the question; earlier user messages (each with the assistant reply after it, if
any) are the history. The reply's ``content`` is the answer text followed by a "来源:" block, so a plain
chat front end shows the sources; ``citations`` (the ``ask --json`` citations) and ``policy_assistant``
(the whole ``ask --json`` object) are extra top-level fields of the response and of the final stream
chunk, for clients that want them structured. ``usage`` counts characters (there is no LLM tokenizer).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator

from policy_assistant.core.errors import QuestionError

# an assistant reply sent back in the history: its sources block is not part of the answer
_SOURCES = re.compile(r"\n+来源:\n.*\Z", re.S)
# stream pieces: a sentence or a line at a time
_PIECES = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+|\n+|$)")


def message_text(content) -> str:
    """The text of a message's ``content``: a string, or a list of parts whose text parts are joined."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict) and p.get("type") == "text")


def conversation(messages) -> tuple[str, list[dict]]:
    """``(question, history turns)`` from chat messages (objects with ``role`` and ``content``)."""
    *earlier, last = messages
    if last.role != "user":
        raise QuestionError(f"the last message is from {last.role!r}, not the user",
                            'end "messages" with {"role": "user", "content": "<question>"}')
    turns: list[dict] = []
    for m in earlier:
        text = message_text(m.content)
        if m.role == "user" and text.strip():
            turns.append({"question": text})
        elif m.role == "assistant" and turns and "answer" not in turns[-1]:
            turns[-1]["answer"] = _SOURCES.sub("", text)
    return message_text(last.content), turns


def reply_content(ans) -> str:
    """The answer text and, below it, the sources."""
    from policy_assistant.cli.ask_cmd import sources_lines

    sources = sources_lines(ans.citations, markdown=True)
    return ans.answer.strip() + ("\n\n" + "\n".join(sources) if sources else "")


def _usage(question: str, content: str) -> dict:
    return {"prompt_tokens": len(question), "completion_tokens": len(content),
            "total_tokens": len(question) + len(content)}


def _extras(ans) -> dict:
    return {"citations": [c.to_dict() for c in ans.citations], "policy_assistant": ans.to_dict()}


def completion(ans, model: str) -> dict:
    """A ``chat.completion`` object for one answer."""
    content = reply_content(ans)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(ans.question, content),
        **_extras(ans),
    }


def stream(ans, model: str, include_usage: bool = False) -> Iterator[str]:
    """Server-sent events in the OpenAI chunk format: the role, the content a sentence at a time, a final
    chunk with ``finish_reason`` and the citations, the usage chunk when asked for, then ``[DONE]``."""
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    content = reply_content(ans)
    yield chunk({"role": "assistant", "content": ""})
    for piece in _PIECES.findall(content):
        if piece:
            yield chunk({"content": piece})
    yield chunk({}, "stop", **_extras(ans))
    if include_usage:
        body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [], "usage": _usage(ans.question, content)}
        yield f"data: {json.dumps(body, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"
