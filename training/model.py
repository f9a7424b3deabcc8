"""The quiz question record shared by the generator, the checker, the CLI and the app."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from policy_assistant.core.errors import PolicyAssistantError
from policy_assistant.core.records import record_from_dict

TYPES = ("fill_figure", "missing_item", "which_article", "true_false")
TYPE_LABELS = {"fill_figure": "填数字", "missing_item": "找缺项", "which_article": "出自哪一条", "true_false": "判断对错"}
BLANK = "___"
TRUE, FALSE = "正确", "错误"
SWAPS = [("应当", "可以"), ("可以", "应当"), ("不得", "可以"), ("禁止", "允许"), ("以上", "以下"), ("以下", "以上"),
         ("提高", "降低"), ("增加", "减少"), ("下降", "上升")]


class QuizError(PolicyAssistantError):
    """No question can be generated for the requested scope."""


@dataclass
class QuizQuestion:
    type: str
    question: str
    choices: list[str]
    answer: str
    doc_title: str
    section: str  # breadcrumb "title › heading › … › label"
    source_text: str  # the passage the answer is taken from (quoted in the explanation)
    chunk_id: str  # the chunk to open in the reader / cite
    explanation: str
    doc_id: str = ""
    path: tuple[str, ...] = ()
    evidence: str = ""  # the exact part of source_text that proves the answer
    key: dict = field(default_factory=dict)  # what check_answer compares with (figure, article, item, truth)
    qid: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = list(self.path)
        return d

    def to_public_dict(self) -> dict:
        """The CLI ``--json`` record: type, question, choices (when any), answer, source."""
        d = {"type": self.type, "question": self.question}
        if self.choices:
            d["choices"] = list(self.choices)
        d.update(answer=self.answer, doc_title=self.doc_title, section=self.section, source_text=self.source_text,
                 chunk_id=self.chunk_id, explanation=self.explanation)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> QuizQuestion:
        return record_from_dict(cls, d)
