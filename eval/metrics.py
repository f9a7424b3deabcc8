"""Scoring one answered gold item, and the metrics over many.

Definitions (all matching after ``eval.gold.normalize_for_match``: NFKC, no spaces, 繁→简, lower case):

- **rank**: 1-based position of the first retrieved passage (top 10) that matches one of the item's
  sources (``source_matches`` on document title, breadcrumb and text); ``None`` when none does.
  Recall@k = share of items *with sources* whose rank ≤ k; MRR = mean of 1/rank (0 when not found).
- **status**: share of all items whose status equals the gold status; plus the confusion matrix.
- **facts**: share of gold-``answered`` items whose answer text contains every ``facts`` entry and at
  least ``facts_any_k`` of ``facts_any`` (``gold.facts_match``).
- **citation precision**: per item with gold sources and at least one citation that is not a near miss,
  the share of those citations whose passage contains a fact (any of facts / facts_any) or matches a
  source; averaged over items.
- **citation recall**: share of items with gold sources where some citation (near misses included)
  matches one of the sources.
- **correct**: status right and, for gold-``answered`` items, facts right (the end-to-end score).
- **p50_ms / p95_ms**: latency of ``Assistant.ask`` (wall clock), linear-interpolated percentiles.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from policy_assistant.eval.gold import GoldItem, facts_match, normalize_for_match, source_matches

RECALL_KS = (1, 3, 5, 10)
LONG_CHARS = 60  # a "long everyday question" (issue 12): 60 characters or more
STATUS_ORDER = ("answered", "not_specified", "not_found")
# Metrics where bigger is better (the rest — latencies — smaller is better).
HIGHER_IS_BETTER = ("recall@1", "recall@3", "recall@5", "recall@10", "mrr", "status", "facts",
                    "citation_precision", "citation_recall", "correct", "answered", "long_recall@5",
                    "long_answered", "long_status", "long_facts")


@dataclass
class CitedPassage:
    n: int
    doc_title: str
    section: str
    text: str
    near_miss: bool = False
    matches_source: bool = False
    has_fact: bool = False

    @property
    def good(self) -> bool:
        return self.matches_source or self.has_fact


@dataclass
class ItemResult:
    id: str
    q: str
    category: str
    expected_status: str
    got_status: str
    has_sources: bool
    rank: int | None = None
    facts_expected: bool = False
    facts_ok: bool | None = None
    missing: list[str] = field(default_factory=list)
    citations: list[CitedPassage] = field(default_factory=list)
    latency_ms: float = 0.0
    answer: str = ""
    expected: str = ""
    retrieved: list[str] = field(default_factory=list)  # breadcrumbs of the top retrieved passages
    error: str | None = None
    source_in_index: bool | None = None  # does any indexed passage match a gold source at all?
    top5_states_answer: bool = False  # one of the top-5 retrieved passages contains every fact

    @property
    def status_ok(self) -> bool:
        return self.got_status == self.expected_status

    @property
    def cited_source(self) -> bool:
        return any(c.matches_source for c in self.citations)

    @property
    def citation_precision(self) -> float | None:
        used = [c for c in self.citations if not c.near_miss]
        return sum(c.good for c in used) / len(used) if used else None

    @property
    def correct(self) -> bool:
        return self.status_ok and (not self.facts_expected or bool(self.facts_ok))

    @property
    def confident_wrong(self) -> bool:
        """Answered, but the documents do not answer it (gold status) or the key facts are missing."""
        return self.got_status == "answered" and (self.expected_status != "answered" or self.facts_ok is False)

    @property
    def false_abstention(self) -> bool:
        """Not answered although a top-5 passage states the answer (every fact is in it)."""
        return (self.expected_status == "answered" and self.got_status in ("not_specified", "not_found")
                and self.top5_states_answer)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(status_ok=self.status_ok, cited_source=self.cited_source, correct=self.correct,
                 confident_wrong=self.confident_wrong, false_abstention=self.false_abstention)
        return d


# --------------------------------------------------------------------------------------------------
# Scoring one item


def passage_matches(item: GoldItem, doc_title: str, sections: list[str], text: str) -> bool:
    """Does a passage match any gold source? ``sections``: the breadcrumb(s) the passage belongs to
    (several for a baseline chunk that straddles units)."""
    return any(source_matches(s, doc_title, sec, text) for s in item.sources for sec in sections)


def contains_fact(item: GoldItem, text: str) -> bool:
    norm = normalize_for_match(text)
    return any(normalize_for_match(f) in norm for f in (*item.facts, *item.facts_any))


def first_match_rank(item: GoldItem, passages: list[tuple[str, list[str], str]]) -> int | None:
    """1-based rank of the first ``(doc_title, sections, text)`` passage matching a source."""
    for i, (title, sections, text) in enumerate(passages, 1):
        if passage_matches(item, title, sections, text):
            return i
    return None


def reachable_items(items: list[GoldItem], passages: list[tuple[str, list[str], str]]) -> set[str]:
    """Ids of the items with at least one source that some passage ``(title, sections, text)`` matches
    (an item outside this set has a gold source no chunk contains: a gold or chunking problem)."""
    normed = [(normalize_for_match(t), [normalize_for_match(s) for s in secs], normalize_for_match(x))
              for t, secs, x in passages]
    ok = set()
    for item in items:
        for src in item.sources:
            d, sec, c = (normalize_for_match(v) for v in (src.doc, src.section, src.contains))
            if any(d in t and c in x and any(sec in s for s in secs) for t, secs, x in normed):
                ok.add(item.id)
                break
    return ok


def describe_expected(item: GoldItem) -> str:
    parts = [item.status]
    if item.facts:
        parts.append("facts: " + " + ".join(item.facts))
    if item.facts_any_k:
        parts.append(f"any {item.facts_any_k} of: " + " / ".join(item.facts_any))
    if item.sources:
        parts.append("source: " + " | ".join(
            f"{s.doc}{' › ' + s.section if s.section else ''} «{s.contains}»" for s in item.sources))
    return "; ".join(parts)


def score_item(item: GoldItem, answer: dict | None, retrieved: list[tuple[str, list[str], str]],
               latency_ms: float = 0.0, sections_of=None, error: str | None = None) -> ItemResult:
    """Score one answer (``Answer.to_dict()`` shape; ``None`` when ``ask`` failed) for ``item``.

    ``retrieved``: the ranked passages as ``(doc_title, sections, text)``; ``sections_of(citation)``
    gives the breadcrumbs of a cited passage (default: its own ``section``).
    """
    answer = answer or {}
    text = str(answer.get("answer", ""))
    cites = []
    for c in answer.get("citations", []) or []:
        sections = sections_of(c) if sections_of else [c.get("section", "")]
        cites.append(CitedPassage(
            n=int(c.get("n", 0)), doc_title=c.get("doc_title", ""), section=c.get("section", ""),
            text=c.get("text", ""), near_miss=bool(c.get("near_miss", False)),
            matches_source=passage_matches(item, c.get("doc_title", ""), sections, c.get("text", "")),
            has_fact=contains_fact(item, c.get("text", ""))))
    facts_expected = item.status == "answered" and bool(item.facts or item.facts_any)
    ok, missing = facts_match(item, text) if facts_expected else (None, [])
    top5 = facts_expected and any(facts_match(item, x)[0] for _, _, x in retrieved[:5])
    return ItemResult(
        id=item.id, q=item.q, category=item.category, expected_status=item.status,
        got_status=str(answer.get("status", "error")) if not error else "error",
        has_sources=bool(item.sources), rank=first_match_rank(item, retrieved),
        facts_expected=facts_expected, facts_ok=ok, missing=list(missing), citations=cites,
        latency_ms=latency_ms, answer=text, expected=describe_expected(item),
        retrieved=[sections[0] if sections else title for title, sections, _ in retrieved[:5]], error=error,
        top5_states_answer=bool(top5))


# --------------------------------------------------------------------------------------------------
# Aggregates


def percentile(values: list[float], p: float) -> float | None:
    """Linear-interpolated percentile (numpy's default method); ``None`` for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * p / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def recall_at(results: list[ItemResult], k: int) -> float | None:
    pool = [r for r in results if r.has_sources]
    return _mean([1.0 if r.rank is not None and r.rank <= k else 0.0 for r in pool])


def mrr(results: list[ItemResult]) -> float | None:
    pool = [r for r in results if r.has_sources]
    return _mean([1.0 / r.rank if r.rank else 0.0 for r in pool])


def confusion(results: list[ItemResult]) -> dict[str, dict[str, int]]:
    """``expected -> got -> count`` over the three statuses (plus ``error`` when ask failed)."""
    got_labels = list(STATUS_ORDER) + (["error"] if any(r.got_status == "error" for r in results) else [])
    others = sorted({r.got_status for r in results} - set(got_labels))
    counts = Counter((r.expected_status, r.got_status) for r in results)
    return {e: {g: counts[(e, g)] for g in [*got_labels, *others]} for e in STATUS_ORDER}


def summarize(results: list[ItemResult], latency: bool = True) -> dict:
    """The metrics of one configuration (``None`` where a metric has no items to average)."""
    out: dict = {"n": len(results)}
    for k in RECALL_KS:
        out[f"recall@{k}"] = recall_at(results, k)
    out["mrr"] = mrr(results)
    out["status"] = _mean([1.0 if r.status_ok else 0.0 for r in results])
    out["facts"] = _mean([1.0 if r.facts_ok else 0.0 for r in results if r.facts_expected])
    precisions = [p for r in results if r.has_sources and (p := r.citation_precision) is not None]
    out["citation_precision"] = _mean(precisions)
    out["citation_recall"] = _mean([1.0 if r.cited_source else 0.0 for r in results if r.has_sources])
    out["correct"] = _mean([1.0 if r.correct else 0.0 for r in results])
    out["confident_wrong"] = _mean([1.0 if r.confident_wrong else 0.0 for r in results])
    out["false_abstention"] = _mean([1.0 if r.false_abstention else 0.0 for r in results])
    answerable = [r for r in results if r.expected_status == "answered"]
    out["answered"] = _mean([1.0 if r.got_status == "answered" else 0.0 for r in answerable])
    long = [r for r in results if len(r.q) >= LONG_CHARS]
    if long:
        out["long_n"] = len(long)
        out["long_recall@5"] = recall_at(long, 5)
        out["long_answered"] = _mean([1.0 if r.got_status == "answered" else 0.0
                                      for r in long if r.expected_status == "answered"])
        out["long_status"] = _mean([1.0 if r.status_ok else 0.0 for r in long])
        out["long_facts"] = _mean([1.0 if r.facts_ok else 0.0 for r in long if r.facts_expected])
    if latency:
        lat = [r.latency_ms for r in results if r.error is None]
        out["p50_ms"] = percentile(lat, 50)
        out["p95_ms"] = percentile(lat, 95)
    out["errors"] = sum(1 for r in results if r.error)
    return out


def by_category(results: list[ItemResult]) -> dict[str, dict]:
    groups: dict[str, list[ItemResult]] = defaultdict(list)
    for r in results:
        groups[r.category].append(r)
    return {cat: summarize(rs, latency=False) for cat, rs in sorted(groups.items())}


def rounded(summary: dict, digits: int = 4) -> dict:
    return {k: (round(v, digits) if isinstance(v, float) else v) for k, v in summary.items()}
