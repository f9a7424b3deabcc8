"""Turn rows of the app's feedback log into draft gold items for review.

Input: the SQLite log written by ``policy_assistant.eval.feedback.FeedbackStore`` (``settings.feedback_db``) or
its JSONL export (``FeedbackStore.export_jsonl``). Each row needs ``question`` and ``status``; ``id``,
``answer``, ``citations`` (``Answer.to_dict()`` citations), ``rating`` (``up``/``down``/null) and
``comment`` are used when present.

Output: one JSON object per line, in the gold format plus ``"draft": true``::

    {"id": "fb-12-3f2a9c", "q": "…", "status": "answered", "category": "open", "facts": [],
     "sources": [{"doc": "…", "section": "…", "contains": "…"}], "smoke": false,
     "notes": "draft from feedback row 12 (rating down: 数字不对); answer was: …", "draft": true}

``status`` and ``sources`` come from the answer that was rated; ``facts`` is empty. ``load_gold`` rejects
the ``draft`` field (and answered items without facts), so a draft cannot slip into the gold set
unreviewed: a reviewer checks the status and sources, writes the facts, deletes ``"draft": true`` and
moves the line into ``eval/gold.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

import zhconv

from policy_assistant.core.errors import PolicyAssistantError
from policy_assistant.eval.gold import normalize_for_match

STATUSES = ("answered", "not_specified", "not_found")
_CONTAINS_MAX = 24


class FeedbackImportError(PolicyAssistantError):
    """The feedback log cannot be read."""


def read_feedback(path: Path | str) -> list[dict]:
    """Rows of a feedback SQLite file (``*.sqlite3``/``*.db``) or a JSONL export, oldest first."""
    path = Path(path)
    if not path.exists():
        raise FeedbackImportError(f"feedback log not found: {path}",
                                  "rate some answers in the app first, or pass --from with an existing file")
    if path.suffix.lower() in (".jsonl", ".json"):
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise FeedbackImportError(f"{path.name} line {n} is not JSON ({exc.msg})",
                                          "export the log again with FeedbackStore.export_jsonl") from exc
        return rows
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        con.row_factory = sqlite3.Row
        try:
            rows = [dict(r) for r in con.execute("SELECT * FROM feedback ORDER BY id")]
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise FeedbackImportError(f"cannot read the feedback log {path}: {exc}",
                                  "pass the app's feedback_db (SQLite) or a JSONL export") from exc
    for r in rows:
        for col in ("citations", "timings", "scope"):
            if isinstance(r.get(col), str):
                try:
                    r[col] = json.loads(r[col]) if r[col] else None
                except json.JSONDecodeError:
                    r[col] = None
    return rows


def _category(question: str, status: str) -> str:
    if status in ("not_found", "not_specified"):
        return status
    if re.search(r"[A-Za-z]{3,}", question) and not re.search(r"[\u4e00-\u9fff]", question):
        return "english"
    if zhconv.convert(question, "zh-cn") != question:
        return "traditional"
    return "open"


def _contains(citation: dict) -> str:
    quote = (citation.get("quote") or "").strip() or (citation.get("text") or "").strip()
    quote = re.sub(r"\s+", "", quote)
    # Skip a leading article/item label so the anchor is content, not numbering.
    quote = re.sub(r"^(第[一二三四五六七八九十百零〇]+条|[（(]?[一二三四五六七八九十\d]+[)）、.．])", "", quote)
    return quote[:_CONTAINS_MAX]


def _section(citation: dict) -> str:
    path = citation.get("path") or []
    if path:
        return str(path[-1])
    section = str(citation.get("section") or "")
    return section.split(" › ")[-1] if " › " in section else ""


def draft_item(row: dict) -> dict | None:
    """One draft gold item from a feedback row (``None`` when the row has no usable question)."""
    q = str(row.get("question") or "").strip()
    if not q:
        return None
    status = str(row.get("status") or "")
    if status not in STATUSES:
        status = "not_found"
    sources = []
    if status != "not_found":
        for c in row.get("citations") or []:
            if c.get("near_miss") or not c.get("doc_title"):
                continue
            contains = _contains(c)
            if contains:
                sources.append({"doc": str(c["doc_title"]), "section": _section(c), "contains": contains})
            if len(sources) == 2:
                break
    rid = row.get("id", "")
    digest = hashlib.sha256(q.encode("utf-8")).hexdigest()[:6]
    rating = row.get("rating") or "unrated"
    comment = str(row.get("comment") or "").strip()
    answer = " ".join(str(row.get("answer") or "").split())[:200]
    note = f"draft from feedback row {rid} (rating {rating}{': ' + comment if comment else ''}); answer was: {answer}"
    if rating == "down":
        note += " — the user disliked this answer: check the status and the sources before writing facts"
    return {"id": f"fb-{rid}-{digest}" if rid != "" else f"fb-{digest}", "q": q, "status": status,
            "category": _category(q, status), "facts": [], "sources": sources, "smoke": False,
            "notes": note, "draft": True}


def import_feedback(rows: list[dict], *, rating: str = "any", known_questions: set[str] | None = None
                    ) -> list[dict]:
    """Draft items for ``rows`` (``rating``: "any", "up", "down" or "rated"), skipping questions already
    in ``known_questions`` (normalised) and repeats within the log (the latest row wins)."""
    known = {normalize_for_match(q) for q in (known_questions or set())}
    latest: dict[str, dict] = {}
    for row in rows:
        r = row.get("rating")
        if rating == "rated" and r not in ("up", "down"):
            continue
        if rating in ("up", "down") and r != rating:
            continue
        key = normalize_for_match(str(row.get("question") or ""))
        if not key or key in known:
            continue
        latest[key] = row
    drafts = [d for d in (draft_item(r) for r in latest.values()) if d]
    drafts.sort(key=lambda d: d["id"])
    return drafts


def write_drafts(drafts: list[dict], path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in drafts), encoding="utf-8")
    return path
