"""jieba domain dictionary and text helpers."""

from __future__ import annotations

import pytest

from policy_assistant.corpus.terms import make_tokenizer
from policy_assistant.corpus.text import (
    cn_to_int,
    int_to_cn,
    join_wrapped_lines,
    normalize_query,
    split_sentences,
)


@pytest.fixture(scope="module")
def tokenizer(real_corpus):
    from policy_assistant.corpus.vocabulary import load_vocabulary

    terms = set(real_corpus.domain_terms) | set(load_vocabulary().keep_whole)  # what the index builder uses
    for term in ("八大攻坚行动", "七大示范工程", "三线一单", "黑臭水体", "河湖长制"):
        assert term in terms
    return make_tokenizer(sorted(terms))


@pytest.mark.parametrize("text,term", [
    ('深入开展"八大攻坚行动"', "八大攻坚行动"),
    ("未取得排污许可证排放污染物", "排污许可证"),
    ("推进三线一单分区管控", "三线一单"),
    ("幸福河黑臭水体治理工程", "黑臭水体"),
    ("全面落实河湖长制", "河湖长制"),
])
def test_domain_terms_stay_whole(tokenizer, text, term):
    assert term in tokenizer(text)


def test_tokenizer_drops_stopwords_and_punctuation(tokenizer):
    toks = tokenizer("谁牵头铊污染专项治理攻坚行动？")
    assert "谁" not in toks and "？" not in toks and "?" not in toks
    assert "铊污染" in toks or "铊" in toks


def test_traditional_query_is_simplified():
    assert normalize_query("森林覆蓋率目標是多少？") == "森林覆盖率目标是多少?"


def test_sentence_split_and_pdf_join():
    assert split_sentences("一是编制规划。二是加强管理;三是落实") == ["一是编制规划。", "二是加强管理;", "三是落实"]
    joined = join_wrapped_lines(["第一条", "为了规范碳排放权交易，促进经济社会", "绿色低碳发展。", "第二条 本条例适用于全国。"])
    assert joined == ["第一条 为了规范碳排放权交易，促进经济社会绿色低碳发展。", "第二条 本条例适用于全国。"]


def test_chinese_numerals():
    assert [cn_to_int(x) for x in ("三", "十", "十四", "二十一", "一百零二")] == [3, 10, 14, 21, 102]
    assert int_to_cn(3) == "三" and int_to_cn(12) == "十二"
