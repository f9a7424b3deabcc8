"""A stand-in Assistant for the chat page's UI contract: no index, no model, canned answers.

The chat page (``app_pages/chat.py``) uses ``ask``, ``rewrite_followup`` and the ``retriever``'s
``search`` / ``chunks`` / ``documents`` / ``manifest``; these classes offer exactly that over a handful of
hand-written passages and return real :class:`~policy_assistant.answer.types.Answer` records. Tests swap
it in through ``app_pages.common.make_assistant``. Whether the real engine answers correctly is tested on
the real index (``slow`` tests).
"""

from __future__ import annotations

from policy_assistant.answer.types import Answer, Citation
from policy_assistant.corpus.model import Chunk
from policy_assistant.corpus.text import split_sentences
from policy_assistant.retrieval.types import Hit

WP = "衡阳市2021年生态环境保护工作要点"
PW = "排污许可管理条例"
AIR = "中华人民共和国大气污染防治法"
_DOCS = {"wp": (WP, "工作要点"), "pw": (PW, "行政法规"), "air": (AIR, "法律")}
_UNITS = [  # (doc, path, text)
    ("wp", ("二、主要目标", "（一）空气环境质量"),
     "(一)空气环境质量。市城区环境空气质量优良率达到88%以上,细颗粒物(PM2.5)年均浓度控制在39ug/m3以下,"
     "臭氧(O3)浓度力争基本保持稳定,重污染天数控制在3天以内。"),
    ("wp", ("二、主要目标", "（二）水环境质量"), "(二)水环境质量。国家、省考断面水质优良率达到100%。"),
    ("wp", ("附件1", "\"七大示范工程\"", "1."), "1.幸福河黑臭水体治理工程。"),
    ("wp", ("附件1", "\"七大示范工程\"", "2."), "2.蒸水环境综合整治提升工程。"),
    ("pw", ("第三章 排污管理", "第十四条"), "第十四条 排污许可证有效期为5年。"),
    ("pw", ("第五章 法律责任", "第三十三条"),
     "第三十三条 违反本条例规定，未取得排污许可证排放污染物的，由生态环境主管部门责令改正或者限制生产、停产整治，"
     "处20万元以上100万元以下的罚款。"),
    ("air", ("第七章 法律责任", "第九十九条"), "第九十九条 未依法取得排污许可证排放大气污染物的，处十万元以上一百万元以下的罚款。"),
]
CHUNKS = [Chunk(f"{doc}#{i}", doc, _DOCS[doc][0], f"{doc}.md", _DOCS[doc][1], path, text, i, "item")
          for i, (doc, path, text) in enumerate(_UNITS)]
NOT_FOUND = {"个人所得税起征点是多少?"}


class FakeRetriever:
    """``search`` ranks the passages by the characters they share with the query, within the scope."""

    def __init__(self, chunks: list[Chunk] = CHUNKS):
        self.chunks = list(chunks)
        self.documents = [{"doc_id": d, "title": t, "doc_type": k} for d, (t, k) in _DOCS.items()]
        self.manifest = {"embedder": "fake-embedder", "built_at": "2026-11-29T00:00:00"}

    def search(self, query: str, k: int = 5, doc_ids=None, doc_types=None, mode: str = "hybrid") -> list[Hit]:
        pool = [c for c in self.chunks if (not doc_ids or c.doc_id in doc_ids)
                and (not doc_types or c.doc_type in doc_types)]
        scored = sorted(pool, key=lambda c: (-len(set(query) & set(c.retrieval_text)), c.position))
        return [Hit(c, float(len(set(query) & set(c.retrieval_text))), r) for r, c in enumerate(scored[:k], 1)]


class FakeAssistant:
    """Answers from the passages in scope (the sentence closest to the question, quoted); records every ``ask``."""

    def __init__(self):
        self.retriever = FakeRetriever()
        self.calls: list[dict] = []

    def rewrite_followup(self, question: str, history) -> str | None:
        if history and question.startswith("那") and question.endswith("呢?"):
            return f"2021年{question[1:-2]}目标是多少?"
        return None

    def ask(self, question: str, *, doc_ids=None, doc_types=None, top_k=None, history=None) -> Answer:
        self.calls.append({"question": question, "doc_ids": doc_ids, "doc_types": doc_types, "top_k": top_k})
        hits = self.retriever.search(question, k=top_k or 5, doc_ids=doc_ids, doc_types=doc_types)
        near_miss = question in NOT_FOUND
        cits = []
        for h in hits if not near_miss else hits[:1]:
            c = h.chunk
            quote = max(split_sentences(c.text), key=lambda s: len(set(question) & set(s)))
            cits.append(Citation(h.rank, c.doc_title, c.file, c.section, c.text, h.score, c.chunk_id, c.doc_id,
                                 list(c.path), quote="" if near_miss else quote, near_miss=near_miss))
        if near_miss or not cits:
            return Answer(question, "not_found", "在这些文件中没有找到能回答这个问题的内容。", cits,
                          timings_ms={"retrieve": 1.0, "answer": 1.0, "total": 2.0})
        body = " ".join(f"{c.quote} [{c.n}]" for c in cits[:2])
        return Answer(question, "answered", body, cits, timings_ms={"retrieve": 1.0, "answer": 1.0, "total": 2.0})
