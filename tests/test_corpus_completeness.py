"""Incomplete copies are flagged (issue 13, item 5): article-number gaps, a text that stops mid-sentence,
chapters that end before the 附则. The stored 长江保护法 stops at 第七十九条 of 96 and is the only
default-corpus document flagged; the reader shows a banner and answers can say so (incomplete_note)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policy_assistant.corpus.completeness import check_completeness, incomplete_note
from policy_assistant.corpus.ingest import load_corpus
from policy_assistant.corpus.structure import int_to_cn, parse_structure

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
YANGTZE = "长江保护法(2020-12-26)"


def _law(numbers, *, chapters=("第一章 总则", "第二章 附则"), last_text="本法自2020年1月1日起施行。", extra=()):
    """Lines of a small law: articles with the given numbers, split over the chapters."""
    lines: list[str] = []
    half = len(numbers) // 2
    for i, n in enumerate(numbers):
        if chapters and i in (0, half):
            lines.append(chapters[0 if i == 0 else 1])
        text = last_text if i == len(numbers) - 1 else "为了保护环境，制定本法。"
        lines.append(f"第{int_to_cn(n)}条 {text}")
    return [*lines, *extra]


def _check(lines):
    return check_completeness(parse_structure(lines))


@pytest.fixture(scope="module")
def corpus():
    if not CORPUS.is_dir():
        pytest.skip(f"corpus folder {CORPUS} not found")
    return load_corpus([CORPUS])


def test_yangtze_law_is_flagged_as_ending_at_article_79(corpus):
    doc = next(d for d in corpus.documents if d.doc_id == YANGTZE)
    c = doc.completeness
    assert c["complete"] is False and c["last_article"] == "第七十九条" and c["articles"] == 79
    assert c["reasons"] == ["no_final_part"] and c["missing"] == []
    assert "第七章 保障与监督" in c["reason"] and "附则" in c["reason"]
    assert any(w.startswith("the copy may be incomplete: it ends at 第七十九条") for w in doc.warnings)
    note = incomplete_note(doc)
    assert note.startswith("本库中的《中华人民共和国长江保护法》可能不完整（只到第七十九条") and "请以正式文本为准" in note


def test_no_other_default_corpus_document_is_flagged(corpus):
    flagged = [d.doc_id for d in corpus.documents if d.completeness and not d.completeness["complete"]]
    assert flagged == [YANGTZE]
    checked = [d for d in corpus.documents if d.completeness]
    assert len(checked) == len(corpus.documents) - 1  # every law, regulation and interpretation; not 工作要点
    for d in checked:  # each law's numbering runs 1..N: N articles, the last one 第N条
        assert d.completeness["last_article"] == f"第{int_to_cn(d.completeness['articles'])}条", d.doc_id
        assert incomplete_note(d) is None or d.doc_id == YANGTZE


def test_a_gap_in_the_article_numbers_is_flagged_with_the_missing_range():
    c = _check(_law([1, 2, 3, 7, 8, 10]))
    assert not c["complete"] and c["reasons"] == ["gap"]
    assert c["missing"] == ["第四条至第六条", "第九条"] and "缺少第四条至第六条、第九条" in c["reason"]


def test_a_copy_that_starts_late_is_flagged():
    assert _check(_law([3, 4, 5, 6]))["missing"] == ["第一条至第二条"]


def test_a_last_article_ending_mid_sentence_is_flagged():
    c = _check(_law([1, 2, 3, 4], last_text="本法自2020年1月1日起施行，"))
    assert c["reasons"] == ["truncated"] and "第四条在句子中间中断" in c["reason"]


def test_tables_appended_after_the_last_article_do_not_count_as_a_truncated_article():
    c = _check(_law([1, 2, 3, 4], extra=["附表一", "环境保护税税目税额表", "大气污染物 每污染当量 1.2元至12元"]))
    assert c["complete"], c


def test_inserted_articles_and_laws_without_chapters_are_complete():
    lines = _law([1, 2, 3], chapters=(), last_text="本条例自公布之日起施行。")
    lines.insert(2, "第二条之一 新增的条文。")
    c = _check(lines)
    assert c["complete"] and c["articles"] == 4 and c["last_article"] == "第三条"


def test_chapters_without_final_part_and_no_effective_date_are_flagged():
    c = _check(_law([1, 2, 3, 4], chapters=("第一章 总则", "第二章 监督管理"), last_text="国家加强监督。"))
    assert c["reasons"] == ["no_final_part"] and "第二章 监督管理" in c["reason"]


def test_policy_documents_are_not_checked():
    assert _check(["一、总体要求", "坚持生态优先。", "二、主要目标", "（一）空气质量。达标。"]) is None
    assert incomplete_note({"title": "x", "completeness": None}) is None


def test_the_index_stores_completeness_and_the_note_reads_it(built_index):
    """documents.json (what HybridRetriever.documents holds) carries the flag; incomplete_note takes that dict."""
    from policy_assistant.index.store import current_dir

    docs = json.loads((current_dir(built_index.index_dir) / "documents.json").read_text(encoding="utf-8"))
    notes = {d["doc_id"]: incomplete_note(d) for d in docs}
    assert [k for k, v in notes.items() if v] == [YANGTZE]
    assert "第七十九条" in notes[YANGTZE]
    yangtze = next(d for d in docs if d["doc_id"] == YANGTZE)
    assert yangtze["completeness"]["last_article"] == "第七十九条"


@pytest.mark.slow
def test_an_answer_that_finds_nothing_in_an_incomplete_copy_says_so(built_index):
    """Issue 13 item 5: asking 长江保护法 for an article past the copy's end must not read as 'the law is silent'."""
    from policy_assistant.answer.engine import Assistant

    answer = Assistant.from_settings(built_index).ask("长江保护法第九十条规定了什么?")
    assert answer.status == "not_found"
    assert "可能不完整" in json.dumps(answer.to_dict(), ensure_ascii=False)
