"""Eval metrics on hand-made data: exact values."""

from __future__ import annotations

import pytest

from policy_assistant.eval.gold import GoldItem, GoldSource
from policy_assistant.eval.metrics import (
    by_category,
    confusion,
    mrr,
    percentile,
    recall_at,
    score_item,
    summarize,
)

WP = "衡阳市2021年生态环境保护工作要点"
SRC = GoldSource(WP, "主要目标", "39ug/m3")


def item(id_, status="answered", facts=("39",), sources=(SRC,), category="figure", facts_any=(), k=0):
    return GoldItem(id=id_, q=f"question {id_}", status=status, category=category, facts=tuple(facts),
                    sources=tuple(sources), facts_any=tuple(facts_any), facts_any_k=k)


def passage(text, section=f"{WP} › 二、主要目标 › （一）空气环境质量"):
    return (WP, [section], text)


GOOD = passage("PM2.5年均浓度控制在39ug/m3以下")
OTHER = passage("森林覆盖率达到66%", section=f"{WP} › 二、主要目标 › （三）生态")


def cite(n, text, section=f"{WP} › 二、主要目标", near_miss=False):
    return {"n": n, "doc_title": WP, "section": section, "text": text, "near_miss": near_miss}


def test_rank_recall_and_mrr_exact():
    it = item("a")
    r1 = score_item(it, {"status": "answered", "answer": "39"}, [GOOD, OTHER])
    r2 = score_item(it, {"status": "answered", "answer": "39"}, [OTHER, OTHER, GOOD])
    r3 = score_item(it, {"status": "answered", "answer": "39"}, [OTHER] * 10)
    r4 = score_item(it, {"status": "answered", "answer": "39"}, [OTHER] * 5 + [GOOD])
    nf = score_item(item("nf", status="not_found", facts=(), sources=()), {"status": "not_found", "answer": ""}, [])
    assert (r1.rank, r2.rank, r3.rank, r4.rank, nf.rank) == (1, 3, None, 6, None)
    rs = [r1, r2, r3, r4, nf]
    # not_found items (no sources) are not in the retrieval pool: 4 items.
    assert recall_at(rs, 1) == 0.25
    assert recall_at(rs, 3) == 0.5
    assert recall_at(rs, 5) == 0.5
    assert recall_at(rs, 10) == 0.75
    assert mrr(rs) == pytest.approx((1 + 1 / 3 + 0 + 1 / 6) / 4)


def test_source_match_is_normalised():
    # full-width digits, spaces and traditional characters in the passage still match
    r = score_item(item("a"), {"status": "answered", "answer": "３９"},
                   [passage("PM2.5年均濃度控制在 ３９ug/m3 以下")])
    assert r.rank == 1 and r.facts_ok is True


def test_status_accuracy_and_confusion():
    a, ns, nf = item("a"), item("b", status="not_specified", facts=()), item("c", status="not_found", facts=(), sources=())
    rs = [
        score_item(a, {"status": "answered", "answer": "39"}, []),
        score_item(a, {"status": "not_specified", "answer": ""}, []),
        score_item(ns, {"status": "not_specified", "answer": ""}, []),
        score_item(nf, {"status": "answered", "answer": "x"}, []),
        score_item(nf, None, [], error="ask: boom"),
    ]
    s = summarize(rs)
    assert s["status"] == 0.4
    assert s["errors"] == 1
    m = confusion(rs)
    assert m["answered"] == {"answered": 1, "not_specified": 1, "not_found": 0, "error": 0}
    assert m["not_specified"]["not_specified"] == 1
    assert m["not_found"] == {"answered": 1, "not_specified": 0, "not_found": 0, "error": 1}


def test_fact_accuracy_with_any_k_of():
    lst = item("l", facts=("示范工程",), facts_any=("甲", "乙", "丙"), k=2, category="list")
    ok = score_item(lst, {"status": "answered", "answer": "七大示范工程: 甲、丙"}, [])
    short = score_item(lst, {"status": "answered", "answer": "七大示范工程: 甲"}, [])
    nofact = score_item(lst, {"status": "answered", "answer": "甲 乙 丙"}, [])
    ns = score_item(item("n", status="not_specified", facts=()), {"status": "answered", "answer": ""}, [])
    assert ok.facts_ok is True
    assert short.facts_ok is False and short.missing == ["any:乙", "any:丙"]
    assert nofact.missing == ["示范工程"]
    assert ns.facts_expected is False and ns.facts_ok is None
    s = summarize([ok, short, nofact, ns])
    assert s["facts"] == pytest.approx(1 / 3)  # only gold-answered items count
    assert s["correct"] == 0.25


def test_citation_precision_and_recall():
    it = item("a", facts=("39",))
    both = score_item(it, {"status": "answered", "answer": "39", "citations": [
        cite(1, "PM2.5年均浓度控制在39ug/m3以下"),            # source + fact
        cite(2, "优良率88%"),                                  # neither
        cite(3, "目标39", section=f"{WP} › 三、主要任务"),      # fact only
        cite(4, "无关", near_miss=True),                       # near miss: not in precision
    ]}, [])
    assert both.cited_source is True
    assert both.citation_precision == pytest.approx(2 / 3)
    none = score_item(it, {"status": "answered", "answer": "39", "citations": [cite(1, "优良率88%")]}, [])
    assert none.citation_precision == 0.0 and none.cited_source is False
    empty = score_item(it, {"status": "answered", "answer": "39", "citations": []}, [])
    assert empty.citation_precision is None
    s = summarize([both, none, empty])
    assert s["citation_precision"] == pytest.approx((2 / 3 + 0) / 2)
    assert s["citation_recall"] == pytest.approx(1 / 3)


def test_citation_sections_of_baseline_chunk():
    # a structureless chunk whose own section is only the title matches through the units it overlaps
    it = item("a")
    c = cite(1, "PM2.5年均浓度控制在39ug/m3以下", section=WP)
    r = score_item(it, {"status": "answered", "answer": "39", "citations": [c]}, [],
                   sections_of=lambda _c: [f"{WP} › 二、主要目标 › （一）空气环境质量"])
    assert r.cited_source is True
    r0 = score_item(it, {"status": "answered", "answer": "39", "citations": [c]}, [])
    assert r0.cited_source is False


def test_percentiles_and_latency():
    assert percentile([], 50) is None
    assert percentile([10.0], 95) == 10.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    it = item("a")
    rs = [score_item(it, {"status": "answered", "answer": "39"}, [], latency_ms=v) for v in (10, 20, 30, 40)]
    s = summarize(rs)
    assert s["p50_ms"] == 25 and s["p95_ms"] == pytest.approx(38.5)


def test_per_category():
    rs = [score_item(item("a", category="figure"), {"status": "answered", "answer": "39"}, [GOOD]),
          score_item(item("b", category="english"), {"status": "answered", "answer": "no"}, [OTHER])]
    cats = by_category(rs)
    assert list(cats) == ["english", "figure"]
    assert cats["figure"]["recall@5"] == 1.0 and cats["figure"]["facts"] == 1.0
    assert cats["english"]["recall@5"] == 0.0 and cats["english"]["facts"] == 0.0
    assert "p50_ms" not in cats["figure"]


def test_reachable_items_flags_gold_sources_no_chunk_contains():
    from policy_assistant.eval.metrics import reachable_items

    items = [item("a"), item("b", sources=(GoldSource(WP, "主要目标", "不存在的句子"),)),
             item("c", status="not_found", facts=(), sources=())]
    assert reachable_items(items, [GOOD, OTHER]) == {"a"}
