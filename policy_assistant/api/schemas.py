"""Request and response bodies of the HTTP API (they are also the OpenAPI schema at ``/docs``).

Responses are the library's own dictionaries (``Answer.to_dict()`` is the ``ask --json`` contract,
``Hit.to_dict()`` a search hit); the response models here describe them for the docs and are not used to
filter them, so a field the library adds reaches clients unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_HISTORY = 50  # turns of a conversation sent back with a question
MAX_DOCS = 50  # documents / types one request may restrict to
MAX_MESSAGES = 2 * MAX_HISTORY + 10  # a chat completion's messages (system ones included)

DocIds = Field(None, max_length=MAX_DOCS, description="only these documents: doc_id, title or a unique part of "
               "a title (GET /v1/documents lists them)", examples=[["排污许可管理条例"]])
DocTypes = Field(None, max_length=MAX_DOCS, description="only these document types",
                 examples=[["法律", "行政法规"]])


class HistoryTurn(BaseModel):
    """An earlier turn: at least its question; a whole ``/v1/ask`` answer object is accepted as it is."""

    model_config = ConfigDict(extra="ignore")

    question: str = Field(max_length=10_000)
    answer: str = ""
    rewritten_question: str | None = None
    status: Literal["answered", "not_specified", "not_found"] = "answered"
    citations: list[dict[str, Any]] = Field(default_factory=list, max_length=100)


class AskRequest(BaseModel):
    """One question, optionally restricted to documents, with the conversation so far."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="the question", examples=["未取得排污许可证排污罚多少?"])
    doc_ids: list[str] | None = DocIds
    doc_types: list[str] | None = DocTypes
    top_k: int | None = Field(None, ge=1, le=50, description="passages to retrieve (default: config top_k)")
    history: list[HistoryTurn] | None = Field(
        None, max_length=MAX_HISTORY,
        description="earlier turns, oldest first, for follow-ups such as 那臭氧呢? (the API keeps no state)")


class SearchRequest(BaseModel):
    """Ranked passages for a query, without an answer."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(description="the question or keywords", examples=["PM2.5年均浓度目标"])
    k: int | None = Field(None, ge=1, le=100, description="number of hits (default: config top_k)")
    doc_ids: list[str] | None = DocIds
    doc_types: list[str] | None = DocTypes
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"


class CitationOut(BaseModel):
    """A numbered source of an answer (``answer/types.Citation``)."""

    model_config = ConfigDict(extra="allow")

    n: int
    doc_title: str
    file: str
    section: str = Field(description="breadcrumb: title › chapter › article")
    text: str
    score: float
    chunk_id: str = ""
    doc_id: str = ""
    path: list[str] = []
    quote: str = Field("", description="the sentence(s) of text the answer relies on")
    near_miss: bool = Field(False, description="a related passage shown for reference, not the answer's basis")
    flags: list[str] = Field([], description='"instruction": the passage addresses an AI and was ignored')


class AnswerOut(BaseModel):
    """The ``policy-assistant ask --json`` contract."""

    model_config = ConfigDict(extra="allow")

    question: str
    status: Literal["answered", "not_specified", "not_found"]
    answer: str = Field(description="Markdown with [n] markers that refer to citations")
    citations: list[CitationOut]
    timings_ms: dict[str, float]
    question_type: str
    answerer: str
    rewritten_question: str | None = Field(None, description="the follow-up as a self-contained question")
    notes: list[str] | None = None


class HitOut(BaseModel):
    """A retrieved passage with the score of each retriever."""

    model_config = ConfigDict(extra="allow")

    rank: int
    score: float
    dense_score: float | None
    dense_rank: int | None
    bm25_score: float | None
    bm25_rank: int | None
    chunk_id: str
    doc_id: str
    doc_title: str
    doc_type: str
    file: str
    section: str
    path: list[str]
    text: str


class SearchOut(BaseModel):
    query: str
    mode: str
    hits: list[HitOut]


class DocumentOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    doc_id: str
    title: str
    file: str
    doc_type: str
    n_chunks: int | None = None


class DocumentsOut(BaseModel):
    index_version: str
    documents: list[DocumentOut]


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    index_version: str = Field(description="the index version this process answers from")
    n_documents: int | None = None
    n_chunks: int | None = None
    stale: bool | None = Field(None, description="the corpus folders changed since the build (null when this "
                               "server cannot see them)")
    error: dict[str, Any] | None = None


class ErrorBody(BaseModel):
    message: str = Field(description="one line: what is wrong — what to do about it")
    fix: str | None = Field(None, description="what to do about it")
    type: str
    code: int


class ErrorOut(BaseModel):
    """Every error: no traceback, one line naming the problem and one naming the fix."""

    error: ErrorBody


# ------------------------------------------------------------------ OpenAI-compatible chat


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str = Field(description="system | user | assistant (others are ignored)")
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """``POST /v1/chat/completions`` as OpenAI clients send it. The last message is the question, earlier
    user/assistant turns are the history; sampling parameters are accepted and ignored (the answer is
    extractive). ``doc_ids``/``doc_types`` are extensions (``extra_body`` in the openai client)."""

    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    doc_ids: list[str] | None = DocIds
    doc_types: list[str] | None = DocTypes
