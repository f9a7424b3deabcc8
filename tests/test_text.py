"""The one text module (corpus/text.py): each rule once, and every layer uses it (issue 11)."""

from __future__ import annotations

import pytest

from policy_assistant.core.records import record_from_dict
from policy_assistant.corpus.model import Chunk
from policy_assistant.corpus.text import (
    cn_to_int,
    fold,
    fold_with_map,
    int_to_cn,
    is_english,
    merge_spans,
    named_doc_ids,
    short_title,
    split_sentences,
)

MIXED = "How much is the fine for 无证排污?"


def test_mixed_english_question_is_english_for_retrieval_and_analysis():
    """One rule: retrieval used to call this English and question analysis Chinese."""
    from policy_assistant.answer.analyse import clean_question
    from policy_assistant.corpus.vocabulary import load_vocabulary
    from policy_assistant.retrieval.expand import expand_bm25_query

    assert is_english(MIXED)
    assert is_english(clean_question(MIXED)[0])  # the analyser uses the same rule
    assert "罚款" in expand_bm25_query(MIXED, load_vocabulary())  # the English glossary applies
    assert not is_english("无证排污罚多少 fine") and not is_english("PM2.5目标")


def test_fold_is_the_matching_form():
    assert fold("ＰＭ２．５ 年均\u200b濃度　39UG/m3") == "pm2.5年均浓度39ug/m3"
    assert fold("森林覆蓋率", simplify=False) == "森林覆蓋率"  # passages: no 繁→简
    assert fold("") == ""
    folded, where = fold_with_map("Ａ b")
    assert folded == "ab" and where == [0, 2]


def test_split_sentences_keeps_punctuation_and_closing_quotes():
    assert split_sentences("第一句。第二句;第三句\n第四句") == ["第一句。", "第二句;", "第三句", "第四句"]
    assert split_sentences("他说“好。”然后走了！") == ["他说“好。”", "然后走了！"]


@pytest.mark.parametrize("n", [1, 10, 11, 20, 21, 100, 105, 124, 1000, 1001, 10000, 100000, 120034])
def test_chinese_numerals_round_trip(n):
    assert cn_to_int(int_to_cn(n)) == n


def test_chinese_numerals_reject_malformed():
    assert [int_to_cn(n) for n in (11, 105)] == ["十一", "一百零五"]
    assert cn_to_int("两") == 2 and cn_to_int("〇") == 0
    assert cn_to_int("一九") is None and cn_to_int("三a") is None and cn_to_int("") is None


def test_short_title_and_named_documents():
    titles = {"ep": "中华人民共和国环境保护法", "tax": "中华人民共和国环境保护税法", "pw": "排污许可管理条例",
              "forest": "中华人民共和国森林法"}
    assert short_title(titles["ep"]) == "环境保护法" and short_title("排污许可管理条例") == "排污许可管理条例"
    # order of mention, not of the titles
    assert named_doc_ids("环境保护法和排污许可管理条例怎么规定?", titles) == ["ep", "pw"]
    assert named_doc_ids("环境保护税法的税目", titles) == ["tax"]
    assert named_doc_ids("中华人民共和国环境保护法第一条", titles) == ["ep"]
    assert named_doc_ids("环境 保护法", titles) == ["ep"]  # spacing does not matter
    assert named_doc_ids("森林法", titles) == []  # a three-character name is too short to trust
    # a mention found another way (an English law name) that contains a shorter one wins over it
    assert named_doc_ids("环境保护法规定", titles, extra=[(0, 7, "tax")]) == ["tax"]


def test_merge_spans():
    assert merge_spans([(5, 7), (0, 2), (1, 3), (7, 9)]) == [(0, 3), (5, 9)]


def test_record_from_dict_round_trip_ignores_unknown_keys():
    c = Chunk("d#1", "d", "标题", "d.md", "法律", ("第一章", "第一条"), "正文", 0)
    again = record_from_dict(Chunk, {**c.to_dict(), "section": "ignored", "future_field": 1})
    assert again == c and isinstance(again.path, tuple)
