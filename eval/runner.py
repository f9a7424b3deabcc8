"""Run the gold set through one or more configurations and score every answer.

    from policy_assistant.eval.runner import run_eval
    run = run_eval(settings, ["default", "bm25"], items)
    run.summary_json()   # {"configs": {NAME: {"recall@5": …, "mrr": …, …}}, "default": NAME, "n": …}

For each configuration: prepare its cached index (``eval/indexes.py``), load it with
``retrieval.search.HybridRetriever``, wrap it so the configuration's retrieval mode and ``k`` cap apply
(``eval/configs.py``), and answer every gold question with ``answer.engine.Assistant``. Retrieval
metrics use the same query the Assistant sends (its question analysis and document-title scoping),
ranked to depth 10 without the answerer's ``k`` cap.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from policy_assistant.eval.configs import DEFAULT, ConfiguredRetriever, EvalConfig, select_configs
from policy_assistant.eval.gold import GoldItem
from policy_assistant.eval.indexes import PreparedIndex, existing_index, prepare_index
from policy_assistant.eval.metrics import (
    ItemResult,
    by_category,
    confusion,
    reachable_items,
    rounded,
    score_item,
    summarize,
)

RETRIEVAL_DEPTH = 10
WARMUP_QUESTION = "PM2.5年均浓度目标是多少?"

Progress = Callable[[str], None]


@dataclass
class ConfigRun:
    config: EvalConfig
    results: list[ItemResult]
    summary: dict
    categories: dict[str, dict]
    confusion: dict[str, dict[str, int]]
    index: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"config": self.config.to_dict(), "summary": rounded(self.summary),
                "categories": {k: rounded(v) for k, v in self.categories.items()},
                "confusion": self.confusion, "index": self.index, "seconds": round(self.seconds, 2),
                "items": [r.to_dict() for r in self.results]}


@dataclass
class EvalRun:
    runs: list[ConfigRun]
    n: int
    subset: str
    gold_path: str
    date: str = field(default_factory=lambda: date.today().isoformat())

    @property
    def default_name(self) -> str:
        names = [r.config.name for r in self.runs]
        return DEFAULT if DEFAULT in names else names[0]

    def get(self, name: str) -> ConfigRun:
        return next(r for r in self.runs if r.config.name == name)

    def summary_json(self) -> dict:
        """The ``eval --json`` object."""
        return {"configs": {r.config.name: rounded(r.summary) for r in self.runs},
                "default": self.default_name, "n": self.n}


def _stderr_progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _build_progress(progress: Progress | None):
    """Index-build progress (stage, done, total) as a line every 10 %."""
    if progress is None:
        return None
    last: dict[str, int] = {}

    def report(stage: str, done: int, total: int) -> None:
        step = max(1, total // 10)
        if stage == "embed" and (done == total or done // step != last.get(stage, -1)):
            last[stage] = done // step
            progress(f"  embedding {done}/{total} chunks")

    return report


class QueryEmbeddingCache:
    """Wraps the retriever's embedder so the metrics search re-uses the query vector the timed ``ask``
    just computed (cleared per configuration, so every configuration's ``ask`` pays its own embedding)."""

    def __init__(self, embedder):
        self.inner = embedder
        self.cache: dict[str, object] = {}

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_queries(self, texts):
        import numpy as np

        texts = list(texts)
        if len(texts) == 1 and texts[0] in self.cache:
            return self.cache[texts[0]][None, :]
        vecs = self.inner.embed_queries(texts)
        if len(texts) == 1:
            self.cache[texts[0]] = np.asarray(vecs)[0]
        return vecs


def _retrieved(assistant, question: str, k: int) -> list:
    """The passages the answer path retrieves for ``question`` (several parts: fused by rank)."""
    from policy_assistant.answer.retrieve import _fuse, retrieve

    q = assistant.analyse(question)
    lists, _ = retrieve(q, assistant.retriever, k=k)
    return lists[0] if len(lists) == 1 else _fuse([(h, 1.0) for h in lists], k)


def run_config(cfg: EvalConfig, items: list[GoldItem], prepared: PreparedIndex, settings,
               retriever=None, progress: Progress | None = None) -> ConfigRun:
    """Answer and score every item with one configuration (``retriever``: an already loaded index)."""
    from policy_assistant.answer.engine import Assistant
    from policy_assistant.retrieval.search import HybridRetriever

    t0 = time.perf_counter()
    s = dataclasses.replace(prepared.settings, answerer=cfg.answerer)
    base = retriever or HybridRetriever.load(s)
    if isinstance(getattr(base, "embedder", None), QueryEmbeddingCache):
        base.embedder.cache.clear()
    elif getattr(base, "embedder", None) is not None:
        base.embedder = QueryEmbeddingCache(base.embedder)
    wrapped = ConfiguredRetriever(base, cfg, candidate_k=settings.candidate_k,
                                  dense_weight=settings.dense_weight, bm25_weight=settings.bm25_weight)
    assistant = Assistant(wrapped, s)
    where = prepared.where

    def sections(chunk_id: str, section: str) -> list[str]:
        return where.get(chunk_id) or [section]

    reachable = reachable_items(items, [(c.doc_title, sections(c.chunk_id, c.section), c.text) for c in base.chunks])
    try:  # warm-up: first-call costs (model pages, jieba) are not part of the latency
        assistant.ask(WARMUP_QUESTION)
    except Exception:  # noqa: BLE001
        pass
    results: list[ItemResult] = []
    for i, item in enumerate(items, 1):
        answer, error, latency, retrieved = None, None, 0.0, []
        try:  # timed first, so it pays for the query embedding
            t = time.perf_counter()
            answer = assistant.ask(item.q).to_dict()
            latency = (time.perf_counter() - t) * 1000
        except Exception as exc:  # noqa: BLE001 — one broken question must not stop the run
            error = f"ask: {type(exc).__name__}: {exc}"
        try:
            hits = _retrieved(assistant, item.q, RETRIEVAL_DEPTH)
            retrieved = [(h.chunk.doc_title, sections(h.chunk.chunk_id, h.chunk.section), h.chunk.text)
                         for h in hits]
        except Exception as exc:  # noqa: BLE001
            error = error or f"retrieval: {type(exc).__name__}: {exc}"
        result = score_item(item, answer, retrieved, latency,
                            sections_of=lambda c: sections(c.get("chunk_id", ""), c.get("section", "")), error=error)
        result.source_in_index = (item.id in reachable) if item.sources else None
        results.append(result)
        if progress and (i % 20 == 0 or i == len(items)):
            progress(f"  {cfg.name}: {i}/{len(items)} questions")
    info = {"chunking": prepared.chunking, "index_dir": str(prepared.settings.index_dir),
            "built": prepared.built, "n_chunks": len(base.chunks), "prepare_seconds": round(prepared.seconds, 2)}
    return ConfigRun(cfg, results, summarize(results), by_category(results), confusion(results), info,
                     time.perf_counter() - t0)


def run_eval(settings, config_names: list[str] | None, items: list[GoldItem], *, subset: str = "all",
             gold_path: str = "", cache_dir: Path | None = None, reuse_index: bool = False,
             progress: Progress | None = _stderr_progress) -> EvalRun:
    """Run ``items`` through the named configurations (all available ones when empty).

    ``reuse_index``: evaluate structure-chunk configurations on ``settings.index_dir`` as it is, instead
    of the eval cache (the recursive chunkings always use the cache).
    """
    from policy_assistant.retrieval.search import HybridRetriever

    configs = select_configs(config_names, settings)
    base_corpus = None
    prepared: dict[str, PreparedIndex] = {}
    loaded: dict[str, object] = {}
    runs: list[ConfigRun] = []
    for cfg in configs:
        if cfg.chunking not in prepared:
            if reuse_index and cfg.chunking == "structure":
                prepared[cfg.chunking] = existing_index(settings)
            else:
                if base_corpus is None:
                    from policy_assistant.corpus.ingest import corpus_from_settings

                    base_corpus = corpus_from_settings(settings)
                if progress:
                    progress(f"index for {cfg.chunking} chunks …")
                prepared[cfg.chunking] = prepare_index(settings, base_corpus, cfg.chunking, cache_dir,
                                                       progress=_build_progress(progress))
            loaded[cfg.chunking] = HybridRetriever.load(prepared[cfg.chunking].settings)
        if progress:
            progress(f"config {cfg.name}: {len(items)} questions")
        runs.append(run_config(cfg, items, prepared[cfg.chunking], settings, loaded[cfg.chunking], progress))
    return EvalRun(runs, len(items), subset, gold_path)


def load_run(json_paths: list[Path | str]) -> EvalRun:
    """Rebuild one run from per-configuration report JSON files (``D-<config>.json``), e.g. to merge
    configurations that were run in parallel processes into one table and one set of reports."""
    import json

    from policy_assistant.eval.configs import CONFIGS
    from policy_assistant.eval.metrics import CitedPassage

    runs, meta = [], {}
    fields = set(ItemResult.__dataclass_fields__)
    for p in json_paths:
        d = json.loads(Path(p).read_text(encoding="utf-8"))
        meta = meta or d
        results = []
        for it in d["items"]:
            kw = {k: v for k, v in it.items() if k in fields}
            kw["citations"] = [CitedPassage(**c) for c in it.get("citations", [])]
            results.append(ItemResult(**kw))
        cfg = CONFIGS[d["config"]["name"]]
        runs.append(ConfigRun(cfg, results, summarize(results), by_category(results), confusion(results),
                              d.get("index", {}), d.get("seconds", 0.0)))
    order = list(CONFIGS)
    runs.sort(key=lambda r: order.index(r.config.name))
    return EvalRun(runs, meta.get("n", 0), meta.get("subset", "all"), meta.get("gold", ""),
                   meta.get("date") or date.today().isoformat())
