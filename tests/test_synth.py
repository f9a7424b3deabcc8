"""Training data from other laws (``policy_assistant.eval.synth``) on the real scale corpus.

Kept fast: a dozen index laws, a couple of dozen foreign laws and a few hundred items, built once per
module. The checks are independent of the generator's own bookkeeping where they can be (penalty
details, key words searched in the raw chunk texts).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import CORPUS, REPO

from policy_assistant.cli import main
from policy_assistant.eval.gold import load_gold, normalize_for_match
from policy_assistant.eval.synth import (
    SynthItem,
    generate,
    laws_path,
    project_titles,
    read_laws,
    select_laws,
    summarize,
)
from policy_assistant.eval.synth_checks import DETAIL
from policy_assistant.eval.synth_laws import FOREIGN_FOLDERS, INDEX_FOLDERS, base_title, law_stats

SCALE = (REPO / ".." / "shared" / "scale-corpus").resolve()
N, N_INDEX, N_FOREIGN, SEED = 300, 12, 30, 5

pytestmark = [pytest.mark.skipif(not SCALE.is_dir() or not CORPUS.is_dir(), reason="../shared corpora not found"),
              pytest.mark.slow]  # reads the scale corpus: seconds per test


@pytest.fixture(scope="module")
def titles():
    return project_titles([CORPUS])


@pytest.fixture(scope="module")
def laws(titles):
    return select_laws(SCALE, titles, n_index=N_INDEX, n_foreign=N_FOREIGN, seed=SEED)


@pytest.fixture(scope="module")
def chunks(laws):
    index_files, foreign_files = laws
    return read_laws(index_files), read_laws(foreign_files)


@pytest.fixture(scope="module")
def gold_questions():
    return {it.q for it in load_gold()}


@pytest.fixture(scope="module")
def items(chunks, gold_questions):
    index_chunks, foreign_chunks = chunks
    return generate(index_chunks, foreign_chunks, seed=SEED, n=N, exclude_questions=gold_questions)


@pytest.fixture(scope="module")
def by_id(chunks):
    return {c.chunk_id: c for c in chunks[0]}


def _all_items(items):
    for it in items:
        yield it
        yield from it.parts


def test_laws_exclude_the_project_documents_and_keep_one_version(laws, titles):
    index_files, foreign_files = laws
    assert len(index_files) == N_INDEX and len(foreign_files) == N_FOREIGN
    project = {base_title(t) for t in titles}
    assert "噪声污染防治法" in project and "排污许可管理条例" in project
    for p in index_files + foreign_files:
        assert base_title(p.name) not in project, p
    assert {p.parent.name for p in index_files} <= set(INDEX_FOLDERS)
    assert {p.parent.name for p in foreign_files} <= set(FOREIGN_FOLDERS)
    names = [base_title(p.name) for p in index_files + foreign_files]
    assert len(names) == len(set(names))  # one version per law, no law on both sides
    for p in index_files:
        stats = law_stats(p)
        assert 30 <= stats.articles <= 120 and stats.liability, p
        newer = [q for q in p.parent.parent.glob(f"*/{base_title(p.name)}(*).md") if q.name > p.name]
        assert not newer, f"{p.name}: a newer version exists: {newer}"


def test_no_project_document_even_when_every_eligible_law_is_taken(titles):
    project = {base_title(t) for t in titles}
    every_index, every_foreign = select_laws(SCALE, titles, n_index=10_000, n_foreign=10_000)
    assert len(every_index) > 100
    assert not {base_title(p.name) for p in every_index + every_foreign} & project
    unguarded, _ = select_laws(SCALE, set(), n_index=10_000, n_foreign=0)
    assert {base_title(p.name) for p in unguarded} & project  # the exclusion is what keeps them out


def test_law_selection_is_deterministic(laws, titles):
    assert select_laws(SCALE, titles, n_index=N_INDEX, n_foreign=N_FOREIGN, seed=SEED) == laws
    assert select_laws(SCALE, titles, n_index=N_INDEX, n_foreign=N_FOREIGN, seed=SEED + 1)[0] != laws[0]


def test_chunks_are_the_engines(chunks):
    index_chunks, _ = chunks
    c = next(c for c in index_chunks if c.kind == "article")
    assert c.section.startswith(c.doc_title + " › ") and re.search(r"第[一二三四五六七八九十百]+条$", c.section)


def test_generate_is_deterministic(chunks, items, gold_questions):
    again = generate(*chunks, seed=SEED, n=N, exclude_questions=gold_questions)
    assert [it.to_dict() for it in again] == [it.to_dict() for it in items]
    other = generate(*chunks, seed=SEED + 1, n=N, exclude_questions=gold_questions)
    assert [it.q for it in other] != [it.q for it in items]


def test_counts_and_shares(items):
    assert len(items) == N
    counts = summarize(items)
    status = counts["status"]
    assert abs(status["not_specified"] - 0.2 * N) <= 0.05 * N
    assert abs(status["not_found"] - 0.2 * N) <= 0.05 * N
    assert counts["answer_type"]["multi"] >= 0.15 * N
    single = {t for t in counts["answer_type"] if t != "multi"}
    assert {"penalty", "who", "number", "definition", "yesno", "list", "open"} <= single
    assert len({it.q for it in items}) == N and len({it.id for it in items}) == N


def test_answered_facts_are_verbatim_in_the_sentence_of_the_chunk(items, by_id):
    answered = [it for it in _all_items(items) if it.status == "answered"]
    assert answered
    for it in answered:
        chunk = by_id[it.chunk_id]
        assert it.facts, it
        assert it.sentence and it.sentence in chunk.text, it
        assert it.section == chunk.section and it.doc_title == chunk.doc_title
        for fact in it.facts:
            assert fact in it.sentence, (fact, it.sentence)
        assert not set(it.mask) & {it.chunk_id}


def test_penalty_facts_are_amounts(items):
    penalties = [it for it in _all_items(items) if it.answer_type == "penalty" and it.status == "answered"]
    assert penalties
    for it in penalties:
        assert re.search(r"(元|倍)(以上.*(元|倍)以下|以下)?$", it.facts[0]), it.facts
        assert re.search(re.escape(it.facts[0]) + r"(的)?罚款", it.sentence)


def test_not_specified_hides_the_source_and_nothing_else_states_the_detail(items, chunks):
    index_chunks, _ = chunks
    negatives = [it for it in _all_items(items) if it.status == "not_specified"]
    assert negatives
    penalty_seen = False
    for it in negatives:
        assert it.chunk_id in it.mask and not it.facts
        (kp,) = it.keys
        assert kp in it.q, (kp, it.q)
        masked = [c for c in index_chunks if c.chunk_id in it.mask]
        assert any(kp in c.retrieval_text for c in masked), it
        visible = [c for c in index_chunks if c.chunk_id not in it.mask and kp in c.retrieval_text]
        assert visible, f"{kp!r}: no other chunk mentions the subject"
        for c in visible:
            assert not DETAIL[it.answer_type].search(c.retrieval_text), (it.q, c.chunk_id)
            if it.answer_type == "penalty":
                penalty_seen = True
                assert not re.search("罚款|拘留|刑事责任", c.retrieval_text), (it.q, c.chunk_id)
    assert penalty_seen


def test_not_found_key_phrases_occur_in_no_index_law(items, chunks):
    index_chunks, foreign_chunks = chunks
    texts = [c.retrieval_text for c in index_chunks]
    foreign_ids = {c.chunk_id for c in foreign_chunks}
    negatives = [it for it in items if it.status == "not_found"]
    assert negatives
    for it in negatives:
        assert it.keys and not it.facts and it.chunk_id in foreign_ids
        assert any(k in it.q for k in it.keys)
        for k in it.keys:
            assert not any(k in t for t in texts), (it.q, k)


def test_multi_part_items_are_long_messages_with_several_parts(items, by_id):
    multi = [it for it in items if it.parts]
    assert len(multi) >= 0.15 * len(items)
    for it in multi:
        assert 60 <= len(it.q) <= 200, it.q
        assert 2 <= len(it.parts) <= 3 and it.status == "answered"
        assert it.parts[0].status == "answered"
        assert it.template.startswith("multi.")
        assert {by_id[p.chunk_id].doc_id for p in it.parts} == {by_id[it.chunk_id].doc_id}  # one law
        for p in it.parts:
            assert p.q.rstrip("？") in it.q or p.q in it.q
            assert set(p.mask) <= set(it.mask)


def test_no_gold_question_and_exclusion_works(items, chunks, gold_questions):
    gold = {normalize_for_match(q) for q in gold_questions}
    assert not [it.q for it in items if normalize_for_match(it.q) in gold]
    banned = {items[0].q, items[1].q}
    again = generate(*chunks, seed=SEED, n=N, exclude_questions=banned)
    assert not banned & {it.q for it in again}


def test_item_round_trips_through_json(items):
    for it in items[:50]:
        line = json.dumps(it.to_dict(), ensure_ascii=False)
        assert SynthItem.from_dict(json.loads(line)) == it


def _synth_cli(tmp_path, out, *extra):
    return main(["--config", str(REPO / "policy-assistant.toml"), "eval", "synth", "--n", "40", "--n-index", "6",
                 "--n-foreign", "10", "--seed", "3", "--out", str(out), *extra])


def test_cli_writes_items_and_the_laws_with_hashes(tmp_path, capsys):
    import hashlib

    out = tmp_path / "synth.jsonl"
    assert _synth_cli(tmp_path, out) == 0
    printed = capsys.readouterr().out
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40 and "40 items" in printed
    assert "status: answered" in printed and "answer_type:" in printed and "template:" in printed
    laws = json.loads(laws_path(out).read_text(encoding="utf-8"))
    assert len(laws["index_laws"]) == 6 and len(laws["foreign_laws"]) == 10 and laws["seed"] == 3
    for law in laws["index_laws"] + laws["foreign_laws"]:
        assert law["sha256"] == hashlib.sha256((SCALE / law["file"]).read_bytes()).hexdigest()
    first = lines[0]
    assert _synth_cli(tmp_path, out) == 0  # its own output may be replaced, and comes out the same
    assert out.read_text(encoding="utf-8").splitlines()[0] == first


def test_cli_never_overwrites_a_file_it_did_not_write(tmp_path, capsys):
    out = tmp_path / "notes.jsonl"
    out.write_text('{"my": "own data"}\n', encoding="utf-8")
    assert _synth_cli(tmp_path, out) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "was not written by" in err
    assert out.read_text(encoding="utf-8") == '{"my": "own data"}\n'
    assert not laws_path(out).exists()


@pytest.mark.parametrize("args, words", [
    (["--scale-dir", "/nonexistent/scale"], "does not exist"),
    (["--n", "0"], "--n must be at least 1"),
])
def test_cli_bad_input_is_one_line(tmp_path, capsys, args, words):
    assert _synth_cli(tmp_path, tmp_path / "x.jsonl", *args) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x.jsonl").exists()


def test_scale_corpus_dir_setting_resolves_against_the_config_file(tmp_path, monkeypatch):
    from policy_assistant.core.config import load_settings

    monkeypatch.delenv("POLICY_ASSISTANT_SCALE_CORPUS_DIR", raising=False)
    assert load_settings(REPO / "policy-assistant.toml").scale_corpus_dir == SCALE
    cfg = tmp_path / "policy-assistant.toml"
    cfg.write_text('scale_corpus_dir = "laws"\n', encoding="utf-8")
    assert load_settings(cfg).scale_corpus_dir == (tmp_path / "laws").resolve()
    assert Path(load_settings(cfg).scale_corpus_dir).is_absolute()
