"""The baseline recursive character splitter (LangChain-style, 250/50, Chinese separators)."""

from __future__ import annotations

import pytest

from policy_assistant.eval.splitter import RecursiveSplitter, document_text, recursive_chunks


def sentence(i: int, n: int = 30) -> str:
    body = f"第{i}句" + "环" * (n - len(f"第{i}句") - 1)
    return body + "。"


def test_short_text_is_one_chunk():
    assert RecursiveSplitter().split_text("短文本。第二句。") == ["短文本。第二句。"]


def test_sizes_never_exceed_250_and_cover_text():
    text = "".join(sentence(i) for i in range(40))  # 1200 chars, sentences of 30
    chunks = RecursiveSplitter().split_text(text)
    assert len(chunks) > 4
    assert all(len(c) <= 250 for c in chunks)
    assert all(c.endswith("。") for c in chunks)  # split at sentence ends, separator kept at the end
    joined = chunks[0]
    for c in chunks[1:]:
        # each chunk starts with an overlap of whole sentences (≤ 50 chars) from the previous one
        k = next(k for k in range(min(len(c), len(joined)), -1, -1) if joined.endswith(c[:k]))
        assert 0 < k <= 50
        joined += c[k:]
    assert joined == text


def test_overlap_is_exact_for_known_pieces():
    sp = RecursiveSplitter(chunk_size=100, chunk_overlap=40)
    text = "".join(sentence(i, 30) for i in range(6))  # six 30-char sentences
    chunks = sp.split_text(text)
    assert chunks[0] == "".join(sentence(i, 30) for i in range(3))
    assert chunks[1] == "".join(sentence(i, 30) for i in range(2, 5))  # carries sentence 2 over (30 ≤ 40)
    assert chunks[2] == "".join(sentence(i, 30) for i in range(4, 6))


def test_separator_order():
    sp = RecursiveSplitter(chunk_size=20, chunk_overlap=0)
    # paragraphs first: each paragraph fits, so no sentence split happens inside them
    assert sp.split_text("甲甲甲。乙乙乙。\n\n丙丙丙丙丙丙丙丙丙丙丙丙丙丙丙") == ["甲甲甲。乙乙乙。", "丙丙丙丙丙丙丙丙丙丙丙丙丙丙丙"]
    # no newline: sentence ends (。！？ each) before semicolons, semicolons before commas
    text = "一二三四五六七八九十，一二三四五六七八九十；一二三四五六七八九十！一二三四"
    assert sp.split_text(text) == ["一二三四五六七八九十，", "一二三四五六七八九十；", "一二三四五六七八九十！", "一二三四"]
    # "；" before "，": splitting at the comma first would give ["…，", "…；一二三四"]
    text = "一二三四五六七八九十，一二三四五六七八九十；一二三四"
    assert sp.split_text(text) == ["一二三四五六七八九十，", "一二三四五六七八九十；", "一二三四"]
    # no separator at all: characters
    assert sp.split_text("字" * 45) == ["字" * 20, "字" * 20, "字" * 5]


def test_question_and_exclamation_marks_are_sentence_ends():
    sp = RecursiveSplitter(chunk_size=12, chunk_overlap=0)
    assert sp.split_text("这是问题吗？这是感叹句！这是句号。") == ["这是问题吗？这是感叹句！", "这是句号。"]


def test_overlap_must_be_smaller_than_size():
    with pytest.raises(ValueError):
        RecursiveSplitter(chunk_size=50, chunk_overlap=50)


def test_recursive_chunks_of_the_corpus_know_their_units(real_corpus):
    doc = next(d for d in real_corpus.documents if "环境保护法" == d.title.removeprefix("中华人民共和国"))
    chunks, where = recursive_chunks([doc])
    assert all(len(c.text) <= 250 and c.kind == "recursive" for c in chunks)
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    text, spans = document_text(doc)
    assert all(text[s.start:s.end] and s.section.startswith(doc.title) for s in spans)
    hit = next(c for c in chunks if "按日连续处罚" in c.text and "第五十九条" in c.text)
    assert any(sec.endswith("第五十九条") for sec in where[hit.chunk_id])
