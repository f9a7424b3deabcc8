"""The answer contract shared by the CLI (`ask --json`), the app, the eval suite and the feedback log."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["answered", "not_specified", "not_found"]
STATUSES: tuple[str, ...] = ("answered", "not_specified", "not_found")
STATUS_LABELS_ZH = {"answered": "已找到", "not_specified": "文件未明确", "not_found": "未找到相关内容"}
# Citation.flags: warnings about a cited passage. "instruction": it contains text addressed to an AI
# (answer/verify.py), which was ignored — never quoted as the answer.
INSTRUCTION_FLAG = "instruction"
FLAG_LABELS_ZH = {INSTRUCTION_FLAG: "此段含疑似写给AI的指令，已忽略，未作为回答依据"}


@dataclass
class Citation:
    """A numbered source: the cited passage and where it stands.

    ``quote`` is the sentence(s) of ``text`` the answer relies on (for highlighting);
    ``near_miss`` marks a passage shown only as a related-but-not-answering reference;
    ``flags`` lists warnings about the passage (``"instruction"``: see :data:`FLAG_LABELS_ZH`).
    """

    n: int
    doc_title: str
    file: str
    section: str
    text: str
    score: float
    chunk_id: str = ""
    doc_id: str = ""
    path: list[str] = field(default_factory=list)
    quote: str = ""
    near_miss: bool = False
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    """One answer: status, markdown text with [n] markers, numbered citations and timings."""

    question: str
    status: Status
    answer: str
    citations: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=lambda: {"retrieve": 0.0, "answer": 0.0, "total": 0.0})
    question_type: str = "open"
    rewritten_question: str | None = None
    answerer: str = "extractive"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {
            "question": self.question,
            "status": self.status,
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "question_type": self.question_type,
            "answerer": self.answerer,
        }
        if self.rewritten_question:
            d["rewritten_question"] = self.rewritten_question
        if self.notes:
            d["notes"] = list(self.notes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Answer:
        cits = [Citation(**{k: v for k, v in c.items() if k in Citation.__dataclass_fields__}) for c in d.get("citations", [])]
        return cls(
            question=d["question"],
            status=d["status"],
            answer=d["answer"],
            citations=cits,
            timings_ms=d.get("timings_ms", {}),
            question_type=d.get("question_type", "open"),
            rewritten_question=d.get("rewritten_question"),
            answerer=d.get("answerer", "extractive"),
            notes=d.get("notes", []),
        )
