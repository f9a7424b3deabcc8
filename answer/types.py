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
    flags: list[str] = field(default_factory=list)  # "instruction": the passage addresses a model/reader

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
    probability: float | None = None       # P(status) from the calibrated status model
    parts: list[dict] = field(default_factory=list)  # per sub-question: text, type, status, probability
    explain: dict | None = None            # feature values behind the status (ask --explain)

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
        if self.probability is not None:
            d["probability"] = round(self.probability, 4)
        if self.parts:
            d["parts"] = self.parts
        if self.explain is not None:
            d["explain"] = self.explain
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
            probability=d.get("probability"),
            parts=d.get("parts", []),
            explain=d.get("explain"),
        )


# ---- records between the stages of the answer path -----------------------------------------------
# analyse (Question, Part, Term) → retrieve (Hit lists per part) → evidence (Unit, PartEvidence)
# → decide (Decision) → compose (Answer) → verify (Answer)

ANSWER_TYPES = ("penalty", "who", "when", "list", "number", "definition", "yesno", "open")


@dataclass
class Term:
    """A key term of a question with its weight (corpus IDF) and the forms it may take in a document."""

    text: str
    idf: float
    forms: tuple[str, ...] = ()  # aliases from the vocabulary (环评 → 环境影响评价)
    df: int = 0                  # chunks containing it (0: an everyday word the documents never use)


@dataclass
class Part:
    """One sub-question: the clause that asks, what kind of answer it wants, and its retrieval query."""

    text: str
    answer_type: str
    query: str
    terms: list[Term] = field(default_factory=list)
    focus: str = ""  # the clause with the statements written just before it (its own subject)
    measure_units: tuple[str, ...] = ()  # a number answer must carry one of these ("养多少头" → 头); () = any


@dataclass
class Question:
    """A validated, analysed question."""

    raw: str
    text: str
    english: bool
    parts: list[Part]
    context: str = ""                                    # the situation the message describes
    terms: list[Term] = field(default_factory=list)      # key terms of the whole message
    years: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)      # places outside the home region
    articles: list[str] = field(default_factory=list)    # 第九十条 (also from "Article 90")
    named_docs: list[str] = field(default_factory=list)  # doc ids whose titles the question names
    notes: list[str] = field(default_factory=list)

    @property
    def answer_type(self) -> str:
        return self.parts[0].answer_type if self.parts else "open"


@dataclass
class Unit:
    """A candidate piece of evidence: one sentence (or the whole passage) of a retrieved chunk."""

    hit: object                      # retrieval.types.Hit (typed loosely: answer sits above retrieval)
    text: str
    index: int                       # sentence number in the chunk; -1 = the whole passage
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0               # P(this unit states the answer) from the unit model


@dataclass
class PartEvidence:
    """The scored evidence for one part: its hits, its units (best first) and the aggregate features."""

    part: Part
    hits: list = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)


@dataclass
class Decision:
    """The calibrated status of one part, with the probability behind it."""

    status: Status
    probability: float
    probabilities: dict[str, float] = field(default_factory=dict)
