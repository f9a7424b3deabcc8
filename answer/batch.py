"""Batch questions: a file of one question per line (plain text, or JSON objects with ``"q"``).

The bytes are decoded the way the corpus readers decode documents (UTF-8 with or without BOM, else
GB18030/GBK, chosen for the whole file); a line that does not decode, a malformed JSON line or a JSON
line without a question becomes a :class:`BatchLine` with an ``error`` instead of stopping the batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from policy_assistant.core.errors import PolicyAssistantError, QuestionError, os_error_fix
from policy_assistant.corpus.text import decode_lines

JSONL_HINT = 'write one question per line, as plain text or as {"q": "问题"}'


@dataclass(frozen=True)
class BatchLine:
    """One non-empty input line: its number (1-based), the question, or why it cannot be asked."""

    line: int
    question: str
    error: QuestionError | None = None


def parse_batch(data: bytes) -> list[BatchLine]:
    """The questions in ``data``; empty lines are skipped, bad lines carry an error."""
    texts, encoding = decode_lines(data)
    out: list[BatchLine] = []
    for n, (text, raw) in enumerate(zip(texts, data.split(b"\n"), strict=True), start=1):
        if text is None:
            preview = raw.strip()[:24]
            out.append(BatchLine(n, preview.decode(encoding, "backslashreplace"), QuestionError(
                f"line {n} is not readable text in the file's encoding ({encoding}): {preview!r}",
                "save the file as UTF-8 (or GBK) text; the other lines are answered")))
            continue
        s = text.strip()
        if not s:
            continue
        if s.startswith("{"):
            out.append(_json_line(n, s))
        else:
            out.append(BatchLine(n, s))
    return out


def _json_line(n: int, s: str) -> BatchLine:
    try:
        obj = json.loads(s)
    except json.JSONDecodeError as exc:
        return BatchLine(n, s, QuestionError(f"line {n} is malformed JSON ({exc.msg}: column {exc.colno})",
                                             JSONL_HINT))
    q = obj.get("q", obj.get("question")) if isinstance(obj, dict) else None
    if not isinstance(q, str) or not q.strip():
        return BatchLine(n, s, QuestionError(f'line {n} is a JSON object without a "q" (or "question") text',
                                             JSONL_HINT))
    return BatchLine(n, q.strip())


def read_batch_file(path: Path) -> list[BatchLine]:
    """:func:`parse_batch` of a file; a missing or unreadable file raises one error with its fix."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        fix = "give a file with one question per line" if isinstance(exc, FileNotFoundError) \
            else os_error_fix(exc, f"the file {path}")
        raise PolicyAssistantError(f"cannot read the batch file {path}: {exc.strerror or exc}", fix) from exc
    return parse_batch(data)
