"""Eval configurations: selection, the retriever wrapper (mode, k cap, scoping, score-sum fusion),
the target check and --fail-under parsing."""

from __future__ import annotations

import pytest

from policy_assistant.core.config import Settings
from policy_assistant.core.errors import ConfigError
from policy_assistant.corpus.model import Chunk
from policy_assistant.eval.configs import CONFIGS, ConfiguredRetriever, available_configs, select_configs
from policy_assistant.eval.report import check_targets, fail_under_violations, parse_fail_under
from policy_assistant.retrieval.types import Hit


def chunk(i):
    return Chunk(chunk_id=f"d#{i}", doc_id="d", doc_title="T", file="t.md", doc_type="法律", path=(f"第{i}条",),
                 text=f"text {i}", position=i)


class FakeBase:
    top_k = 5

    def __init__(self):
        self.calls = []
        self.chunks = [chunk(i) for i in range(4)]
        self.embedder = "E"

    def search(self, query, k=None, doc_ids=None, doc_types=None, mode="hybrid", qvec=None, exclude=None):
        self.calls.append({"k": k, "doc_ids": doc_ids, "mode": mode})
        # dense / bm25 raw scores: chunk 0 best by RRF rank, chunk 2 best by the score sum
        raw = [(0.80, 9.0), (0.79, 1.0), (0.70, 10.0), (0.60, None)]
        if mode == "dense":
            ranked = sorted(range(4), key=lambda i: -raw[i][0])
            return [Hit(chunk=self.chunks[i], score=raw[i][0], rank=r, dense_score=raw[i][0])
                    for r, i in enumerate(ranked, 1)][:k]
        if mode == "bm25":
            ranked = sorted((i for i in range(4) if raw[i][1]), key=lambda i: -raw[i][1])
            return [Hit(chunk=self.chunks[i], score=raw[i][1], rank=r, bm25_score=raw[i][1])
                    for r, i in enumerate(ranked, 1)][:k]
        return [Hit(chunk=self.chunks[i], score=1.0 / (i + 1), rank=i + 1, dense_score=d, bm25_score=b)
                for i, (d, b) in enumerate(raw)][:k]


def test_selection():
    s = Settings()
    assert "llm" not in available_configs(s)
    assert available_configs(Settings(llm_base_url="http://x")) == list(CONFIGS)
    assert [c.name for c in select_configs(["dense,bm25", "dense"], s)] == ["dense", "bm25"]
    with pytest.raises(ConfigError, match="unknown eval configuration"):
        select_configs(["nope"], s)
    with pytest.raises(ConfigError, match="LLM"):
        select_configs(["llm"], s)


def test_wrapper_forces_mode_and_forwards_attributes():
    base = FakeBase()
    r = ConfiguredRetriever(base, CONFIGS["bm25"])
    r.search("q", k=10, doc_ids=["d"], mode="hybrid")
    assert base.calls[-1] == {"k": 10, "doc_ids": ["d"], "mode": "bm25"}
    assert r.chunks is base.chunks and r.embedder == "E"


def test_baseline_caps_k_and_ignores_title_scoping():
    base = FakeBase()
    r = ConfiguredRetriever(base, CONFIGS["baseline-recursive"])
    assert len(r.search("q", k=10, doc_ids=["d"])) == 3
    assert base.calls[-1] == {"k": 3, "doc_ids": None, "mode": "dense"}
    r.search("q", k=10, uncapped=True)
    assert base.calls[-1]["k"] == 10


def test_score_sum_fusion():
    base = FakeBase()
    hits = ConfiguredRetriever(base, CONFIGS["no-fusion"], candidate_k=30).search("q", k=4)
    assert [(c["mode"], c["k"]) for c in base.calls] == [("dense", 30), ("bm25", 30)]
    # minmax dense: [1, .95, .5, 0]; minmax bm25 (not in the BM25 list → min): [.888…, 0, 1, 0]
    assert [h.chunk.chunk_id for h in hits] == ["d#0", "d#2", "d#1", "d#3"]
    assert hits[0].score == pytest.approx(1 + 8 / 9)
    assert [h.rank for h in hits] == [1, 2, 3, 4]
    assert hits[3].bm25_score is None and hits[3].bm25_rank is None and hits[1].bm25_rank == 1


class _Cfg:
    def __init__(self, name, baseline):
        self.name, self.baseline = name, baseline


class _Run:
    def __init__(self, summaries):
        self.runs = [type("R", (), {"config": _Cfg(n, n != "default"), "summary": s})() for n, s in summaries]
        self.default_name = "default"

    def get(self, name):
        return next(r for r in self.runs if r.config.name == name)


def test_targets_and_fail_under():
    good = {"n": 10, "recall@5": 0.96, "mrr": 0.9, "facts": 0.95, "status": 0.92, "p50_ms": 20.0}
    base = {"n": 10, "recall@5": 0.96, "mrr": 0.5, "facts": 0.5, "status": 0.5, "p50_ms": 5.0}
    run = _Run([("default", good), ("dense", base)])
    checks = {c["check"]: c["ok"] for c in check_targets(run)}
    assert checks["recall@5 ≥ 0.95"] and checks["mrr > dense"]
    assert checks["recall@5 > dense"] is False  # equal is not strictly better
    th = parse_fail_under(["recall@5=0.97,mrr=0.5", "p50_ms=10"])
    assert th == {"recall@5": 0.97, "mrr": 0.5, "p50_ms": 10.0}
    msgs = fail_under_violations(good, th)
    assert len(msgs) == 2 and msgs[0].startswith("recall@5 = 0.96 < 0.97") and "p50_ms = 20 > 10" in msgs[1]
    with pytest.raises(ValueError, match="METRIC=VALUE"):
        parse_fail_under(["bogus=1"])
    with pytest.raises(ValueError, match="not a number"):
        parse_fail_under(["mrr=high"])
