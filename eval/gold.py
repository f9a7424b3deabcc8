"""The hand-checked gold set: loading with a strict schema check, and fact / source matching.

One JSON object per line in ``eval/gold.jsonl`` (see docs/gold.md)::

    {"id": "wp-pm25-target", "q": "PM2.5年均浓度目标是多少?", "status": "answered", "category": "figure",
     "facts": ["39"], "facts_any": [], "facts_any_k": 0,
     "sources": [{"doc": "衡阳市2021年生态环境保护工作要点", "section": "主要目标", "contains": "39ug/m3"}],
     "smoke": true, "notes": ""}

``load_gold`` raises :class:`GoldSetError` naming the line, the item id and the problem, so a broken
item fails loudly instead of silently skewing the metrics.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from policy_assistant.core.errors import PolicyAssistantError
from policy_assistant.corpus.text import fold

DEFAULT_GOLD_PATH = Path(__file__).resolve().parent / "gold.jsonl"
DEFAULT_TEST_PATH = Path(__file__).resolve().parent / "test.jsonl"  # the frozen test split: never tuned on
DEFAULT_DEV_LONG_PATH = Path(__file__).resolve().parent / "dev_long.jsonl"  # long everyday dev questions

STATUSES = ("answered", "not_specified", "not_found")
CATEGORIES = (
    "figure",
    "list",
    "who",
    "when",
    "penalty",
    "definition",
    "cross_doc",
    "paraphrase",
    "english",
    "traditional",
    "not_specified",
    "not_found",
    "yes_no",
    "open",
)

_REQUIRED_FIELDS = ("id", "q", "status", "category", "facts", "sources")
_OPTIONAL_DEFAULTS = {"facts_any": list, "facts_any_k": int, "smoke": bool, "notes": str}
_ALLOWED_FIELDS = set(_REQUIRED_FIELDS) | set(_OPTIONAL_DEFAULTS)
_SOURCE_FIELDS = ("doc", "section", "contains")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class GoldSetError(PolicyAssistantError):
    """The gold file is missing or an item breaks the schema."""


@dataclass(frozen=True)
class GoldSource:
    """An acceptable source passage: any one of an item's sources counts.

    ``doc``: substring of the document title; ``section``: substring of the breadcrumb ("" = any section);
    ``contains``: substring that occurs verbatim in the passage text.
    """

    doc: str
    section: str
    contains: str


@dataclass(frozen=True)
class GoldItem:
    id: str
    q: str
    status: str
    category: str
    facts: tuple[str, ...]
    sources: tuple[GoldSource, ...]
    facts_any: tuple[str, ...] = ()
    facts_any_k: int = 0
    smoke: bool = False
    notes: str = ""
    line: int = field(default=0, compare=False)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "q": self.q,
            "status": self.status,
            "category": self.category,
            "facts": list(self.facts),
            "facts_any": list(self.facts_any),
            "facts_any_k": self.facts_any_k,
            "sources": [{"doc": s.doc, "section": s.section, "contains": s.contains} for s in self.sources],
            "smoke": self.smoke,
            "notes": self.notes,
        }


def normalize_for_match(text: str) -> str:
    """Normalise for substring matching: ``corpus.text.fold`` (NFKC, no whitespace or zero-width
    characters, traditional → simplified Chinese, lower case)."""
    return fold(text or "")


def facts_match(item: GoldItem, answer_text: str) -> tuple[bool, list[str]]:
    """Do all ``facts`` and at least ``facts_any_k`` of ``facts_any`` occur in the answer?

    Returns ``(ok, missing)``; ``missing`` lists the missing ``facts`` and, when too few of
    ``facts_any`` matched, the unmatched ``facts_any`` entries (prefixed with ``"any:"``).
    """
    norm = normalize_for_match(answer_text)
    missing = [f for f in item.facts if normalize_for_match(f) not in norm]
    if item.facts_any_k:
        hits = [f for f in item.facts_any if normalize_for_match(f) in norm]
        if len(hits) < item.facts_any_k:
            missing += [f"any:{f}" for f in item.facts_any if f not in hits]
    return (not missing, missing)


def source_matches(source: GoldSource, doc_title: str, section: str, text: str) -> bool:
    """Is a retrieved / cited passage (document title, breadcrumb, text) this gold source?"""
    return (
        normalize_for_match(source.doc) in normalize_for_match(doc_title)
        and normalize_for_match(source.section) in normalize_for_match(section)
        and normalize_for_match(source.contains) in normalize_for_match(text)
    )


def item_source_matches(item: GoldItem, doc_title: str, section: str, text: str) -> bool:
    """True when the passage matches any of the item's sources."""
    return any(source_matches(s, doc_title, section, text) for s in item.sources)


# --------------------------------------------------------------------------------------------------
# Loading and the schema check


def _fail(path: Path, line_no: int, item_id: str | None, problem: str) -> GoldSetError:
    where = f"{path.name} line {line_no}" + (f" (id {item_id!r})" if item_id else "")
    return GoldSetError(
        f"broken gold item at {where}: {problem}",
        fix=f"edit {path} line {line_no}; the format is described in docs/gold.md",
    )


def _str_list(value, name: str, err) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise err(f"{name!r} must be a list of strings")
    if any(not v.strip() for v in value):
        raise err(f"{name!r} contains an empty string")
    if len(set(value)) != len(value):
        raise err(f"{name!r} contains duplicates")
    return tuple(value)


def _parse_item(obj, path: Path, line_no: int) -> GoldItem:
    if not isinstance(obj, dict):
        raise _fail(path, line_no, None, "each line must be a JSON object")
    raw_id = obj.get("id")
    item_id = raw_id if isinstance(raw_id, str) else None

    def err(problem: str) -> GoldSetError:
        return _fail(path, line_no, item_id, problem)

    unknown = sorted(set(obj) - _ALLOWED_FIELDS)
    if unknown:
        raise err(f"unknown field(s) {', '.join(unknown)}")
    missing = [f for f in _REQUIRED_FIELDS if f not in obj]
    if missing:
        raise err(f"missing field(s) {', '.join(missing)}")
    if not isinstance(raw_id, str) or not _ID_RE.match(raw_id):
        raise err("'id' must be a non-empty string of a-z, 0-9, '-' or '_'")
    q = obj["q"]
    if not isinstance(q, str) or not q.strip():
        raise err("'q' must be a non-empty string")
    status = obj["status"]
    if status not in STATUSES:
        raise err(f"bad status {status!r} (allowed: {', '.join(STATUSES)})")
    category = obj["category"]
    if category not in CATEGORIES:
        raise err(f"bad category {category!r} (allowed: {', '.join(CATEGORIES)})")

    facts = _str_list(obj["facts"], "facts", err)
    facts_any = _str_list(obj.get("facts_any", []), "facts_any", err)
    k = obj.get("facts_any_k", 0)
    if not isinstance(k, int) or isinstance(k, bool) or k < 0:
        raise err("'facts_any_k' must be a non-negative integer")
    if k > len(facts_any):
        raise err(f"facts_any_k = {k} > len(facts_any) = {len(facts_any)}")
    if facts_any and k == 0:
        raise err("'facts_any' is given but 'facts_any_k' is 0")
    smoke = obj.get("smoke", False)
    if not isinstance(smoke, bool):
        raise err("'smoke' must be true or false")
    notes = obj.get("notes", "")
    if not isinstance(notes, str):
        raise err("'notes' must be a string")

    raw_sources = obj["sources"]
    if not isinstance(raw_sources, list):
        raise err("'sources' must be a list")
    sources = []
    for i, s in enumerate(raw_sources, 1):
        if not isinstance(s, dict):
            raise err(f"source {i} must be an object")
        extra = sorted(set(s) - set(_SOURCE_FIELDS))
        if extra:
            raise err(f"source {i}: unknown field(s) {', '.join(extra)}")
        lacking = [f for f in _SOURCE_FIELDS if f not in s]
        if lacking:
            raise err(f"source {i}: missing field(s) {', '.join(lacking)}")
        if not all(isinstance(s[f], str) for f in _SOURCE_FIELDS):
            raise err(f"source {i}: doc, section and contains must be strings")
        if not s["doc"].strip() or not s["contains"].strip():
            raise err(f"source {i}: 'doc' and 'contains' must not be empty")
        sources.append(GoldSource(s["doc"], s["section"], s["contains"]))

    if status == "not_found":
        if sources:
            raise err("a not_found item must have no sources")
        if facts or facts_any:
            raise err("a not_found item must have no facts")
    elif status == "answered":
        if not facts and not facts_any:
            raise err("an answered item needs facts or facts_any")
        if not sources:
            raise err("an answered item needs at least one source")
    else:  # not_specified
        if not sources:
            raise err("a not_specified item needs the related passages as sources")

    return GoldItem(
        id=raw_id,
        q=q,
        status=status,
        category=category,
        facts=facts,
        sources=tuple(sources),
        facts_any=facts_any,
        facts_any_k=k,
        smoke=smoke,
        notes=notes,
        line=line_no,
    )


def load_gold(path: str | Path | None = None) -> list[GoldItem]:
    """Read and check the gold file (default: ``gold.jsonl`` next to this module).

    Blank lines and lines starting with ``#`` are skipped. Raises :class:`GoldSetError` on the first
    problem, naming the line number, the item id and what is wrong.
    """
    p = Path(path) if path is not None else DEFAULT_GOLD_PATH
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as e:
        raise GoldSetError(f"gold file not found: {p}", fix="pass the path of an existing .jsonl file") from e
    except UnicodeDecodeError as e:
        raise GoldSetError(f"gold file is not UTF-8: {p}", fix="save the file as UTF-8") from e

    items: list[GoldItem] = []
    seen: dict[str, int] = {}
    for line_no, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise _fail(p, line_no, None, f"invalid JSON ({e.msg} at column {e.colno})") from e
        item = _parse_item(obj, p, line_no)
        if item.id in seen:
            raise _fail(p, line_no, item.id, f"duplicate id (first used on line {seen[item.id]})")
        seen[item.id] = line_no
        items.append(item)
    if not items:
        raise GoldSetError(f"gold file has no items: {p}", fix="add at least one item (see docs/gold.md)")
    return items


def smoke_items(items: list[GoldItem]) -> list[GoldItem]:
    """The fast CI subset."""
    return [it for it in items if it.smoke]
