"""Fast tokenising (issue 14, item 3): rjieba against the reference jieba, the exact 繁→简 fast path,
the numpy BM25 build against bm25s' own, and the tokenizer engine an index records."""

from __future__ import annotations

import functools
import random
from collections import Counter

import bm25s
import numpy as np
import pytest
import zhconv
from conftest import CORPUS

from policy_assistant.core.errors import ConfigError
from policy_assistant.corpus.ingest import load_corpus
from policy_assistant.corpus.terms import make_tokenizer
from policy_assistant.corpus.text import normalize_query, to_simplified
from policy_assistant.index.bm25 import bm25_scores, build_bm25, load_bm25, save_bm25

# real OCR models, servers or worker processes: seconds each (make test-fast leaves them out)
pytestmark = pytest.mark.slow

TRADITIONAL = ["森林覆蓋率目標是多少", "我幹什麼不干你事。", "反覆答覆", "公升", "A肝疫苗", "電腦", "乾隆年間",
               "排污許可證的有效期是幾年？", "環境保護稅的納稅人"]


@pytest.fixture(scope="module")
def corpus():
    return load_corpus([CORPUS])


def test_simplified_fast_path_is_exactly_zhconv(corpus):
    texts = [c.retrieval_text for c in corpus.chunks] + TRADITIONAL
    assert [to_simplified(t) for t in texts] == [zhconv.convert(t, "zh-cn") for t in texts]
    assert to_simplified("森林覆蓋率目標") == "森林覆盖率目标" and to_simplified("公升") == "升"


def test_rjieba_tokens_agree_with_jieba(corpus):
    fast = make_tokenizer(corpus.domain_terms)
    ref = make_tokenizer(corpus.domain_terms, engine="jieba")
    inter = longest = 0
    for c in corpus.chunks:
        a, b = Counter(ref(c.retrieval_text)), Counter(fast(c.retrieval_text))
        inter += sum((a & b).values())
        longest += max(sum(a.values()), sum(b.values()))
    assert inter / longest >= 0.99
    for q in ["未取得排污许可证排污罚多少?", "谁牵头铊污染专项治理攻坚行动？", "森林覆蓋率的目標"]:
        assert fast(q) == ref(q)


def test_unknown_tokenizer_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown tokenizer 'ik'"):
        make_tokenizer([], engine="ik")


def test_numpy_bm25_build_equals_bm25s_index(corpus, tmp_path):
    tok = make_tokenizer(corpus.domain_terms)
    tokens = [tok(c.retrieval_text) for c in corpus.chunks]
    ours = build_bm25(tokens)
    save_bm25(ours, tmp_path / "bm25")
    ours = load_bm25(tmp_path / "bm25")
    theirs = bm25s.BM25(method="lucene")
    theirs.index(tokens, show_progress=False)
    rng = random.Random(5)
    for doc in rng.sample(tokens, 100):
        q = doc[:5] + [normalize_query("不存在的词语")]
        np.testing.assert_allclose(bm25_scores(ours, q), bm25_scores(theirs, q), rtol=1e-6, atol=1e-7)
    assert ours.scores["indptr"][-1] == theirs.scores["indptr"][-1]  # same number of (term, chunk) scores
    assert build_bm25([[], []]).vocab_dict  # an all-empty corpus still gets a vocabulary


def test_index_records_its_tokenizer_and_queries_use_it(built_index, retriever):
    from policy_assistant.index.build import _tokenizer_fingerprint
    from policy_assistant.retrieval.search import index_tokenizer_factory

    assert retriever.manifest["bm25"]["tokenizer_engine"] == "rjieba"
    assert index_tokenizer_factory(retriever.manifest).keywords == {"engine": "rjieba"}
    assert index_tokenizer_factory({"bm25": {}}).keywords == {"engine": "jieba"}  # built before engines
    terms = ["排污许可证"]
    assert (_tokenizer_fingerprint(make_tokenizer, terms, "jieba")
            != _tokenizer_fingerprint(make_tokenizer, terms, "rjieba"))  # cached tokens do not cross engines
    assert isinstance(index_tokenizer_factory(retriever.manifest), functools.partial)


def test_tokenising_in_worker_processes_gives_the_same_tokens(corpus):
    from policy_assistant.corpus.terms import tokenize_parallel

    texts = [c.retrieval_text for c in corpus.chunks[:300]]
    tok = make_tokenizer(corpus.domain_terms)
    assert tokenize_parallel(texts, corpus.domain_terms, "rjieba", workers=3) == [tok(t) for t in texts]
