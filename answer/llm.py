"""Optional LLM answerer: a LangChain chain retriever → prompt (prompts/) → chat model → parser,
followed by grounding verification with fallback to the extractive answer."""

from __future__ import annotations

import os
import re

from policy_assistant.answer.types import Answer, Citation, Question
from policy_assistant.answer.verify import check_grounding, data_only, is_instruction
from policy_assistant.core.errors import ConfigError
from policy_assistant.retrieval.types import Hit

MAX_PASSAGES = 8
_STATUS_RE = re.compile(r"^\s*(?:状态|status)\s*[:：]\s*(answered|not_specified|not_found)\s*$", re.I | re.M)


def format_passages(hits: list[Hit]) -> str:
    """Numbered passages as data blocks; instruction-looking sentences are removed."""
    blocks = []
    for i, h in enumerate(hits, 1):
        c = h.chunk
        text = data_only(c.text).replace("<", "‹").replace(">", "›")
        if text != c.text.replace("<", "‹").replace(">", "›"):
            text += "\n[已移除疑似指令的文字]"
        blocks.append(f'<passage n="{i}" source="{c.section}">\n{text}\n</passage>')
    return "\n\n".join(blocks)


def parse_output(text: str) -> tuple[str | None, str]:
    """(status or None, answer body without the status line)."""
    m = _STATUS_RE.search(text or "")
    status = m.group(1).lower() if m else None
    body = _STATUS_RE.sub("", text or "", count=1).strip()
    return status, body


class LLMAnswerer:
    """Generates with a chat model, verifies, and falls back to the extractive answer."""

    def __init__(self, model, max_passages: int = MAX_PASSAGES):
        from langchain_core.output_parsers import StrOutputParser

        from policy_assistant.prompts import chat_prompt

        self.model = model
        self.max_passages = max_passages
        self.prompt = chat_prompt("answer")
        self.generate = self.prompt | model | StrOutputParser()

    @classmethod
    def from_settings(cls, settings) -> LLMAnswerer:
        """ChatOpenAI from ``llm_base_url``/``llm_model``/``llm_api_key_env`` (constructed only here)."""
        if not getattr(settings, "llm_model", ""):
            raise ConfigError("answerer = \"llm\" but llm_model is empty",
                              "set llm_model (and llm_base_url) in policy-assistant.toml, or use answerer = \"extractive\"")
        key = os.environ.get(settings.llm_api_key_env or "OPENAI_API_KEY", "")
        if not key and not settings.llm_base_url:
            raise ConfigError(f"no API key in ${settings.llm_api_key_env}",
                              f"export {settings.llm_api_key_env}=… or set llm_base_url to a local endpoint")
        from langchain_openai import ChatOpenAI

        model = ChatOpenAI(base_url=settings.llm_base_url or None, model=settings.llm_model,
                           api_key=key or "not-needed", temperature=settings.llm_temperature, timeout=60)
        return cls(model)

    def build_chain(self, retriever):
        """The full LangChain pipeline: question → retriever (BaseRetriever or HybridRetriever) → prompt →
        chat model → text. Used standalone; :meth:`answer` reuses hits the Assistant already retrieved."""
        from langchain_core.runnables import RunnableLambda

        def retrieve(question: str) -> dict:
            if hasattr(retriever, "search"):
                hits = retriever.search(question, k=self.max_passages)
            else:
                docs = retriever.invoke(question)
                hits = [_doc_to_hit(d, i) for i, d in enumerate(docs, 1)]
            return {"question": question, "passages": format_passages(hits[: self.max_passages])}

        return RunnableLambda(retrieve) | self.generate

    def answer(self, q: Question, hits: list[Hit], extractive: Answer) -> Answer:
        hits = hits[: self.max_passages]
        fallback_note = None
        try:
            raw = self.generate.invoke({"question": q.text, "passages": format_passages(hits)})
        except Exception as exc:  # network, auth, model errors: never a traceback for the user
            raw = None
            fallback_note = f"LLM 不可用({type(exc).__name__}),改用抽取式答案"
        if raw is not None:
            status, body = parse_output(raw)
            passages = {i: f"{h.chunk.section}\n{h.chunk.text}" for i, h in enumerate(hits, 1)}
            problems = check_grounding(body, passages, q.text, require_marker=status != "not_found")
            if status is None:
                problems.insert(0, "输出缺少状态行")
            if status == "answered" and extractive.status == "not_found" and (q.places or q.years):
                problems.append("问题的年份或地域超出文件范围")
            if not problems:
                return self._to_answer(q, status, body, hits)
            fallback_note = "LLM 回答未通过核对(" + ";".join(problems) + "),改用抽取式答案"
        extractive.notes = [*extractive.notes, fallback_note]
        extractive.answerer = "extractive-fallback"
        return extractive

    def _to_answer(self, q: Question, status: str, body: str, hits: list[Hit]) -> Answer:
        from policy_assistant.answer.verify import markers

        used = list(dict.fromkeys(markers(body)))
        cits = []
        for n in used:
            c = hits[n - 1].chunk
            cits.append(Citation(n=n, doc_title=c.doc_title, file=c.file, section=c.section, text=c.text,
                                 score=round(float(hits[n - 1].score), 6), chunk_id=c.chunk_id,
                                 doc_id=c.doc_id, path=list(c.path)))
        return Answer(question=q.raw, status=status, answer=body, citations=cits, question_type=q.answer_type,
                      answerer="llm")


def _doc_to_hit(doc, rank: int) -> Hit:
    from policy_assistant.corpus.model import Chunk

    meta = dict(doc.metadata)
    meta.setdefault("text", doc.page_content)
    return Hit(chunk=Chunk.from_dict(meta), score=float(meta.get("score", 0.0)), rank=rank)


__all__ = ["LLMAnswerer", "format_passages", "parse_output", "is_instruction"]
