"""Retrieval R@5 / MRR of the hybrid search for several weights of the best-sentence list (dev sets only).

    .venv/bin/python benchmarks/bench_unit_weight.py --index-dir data/index
    .venv/bin/python benchmarks/bench_unit_weight.py --gold eval/gold.jsonl --gold eval/dev_long.jsonl --weights 0,1

``search(q, k=10)`` per question with a source; a hit counts when it is one of the question's sources
(``eval.metrics.passage_matches``). Never run it on the frozen test split (eval/test.jsonl): the weight is
chosen here.
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    from policy_assistant.core.config import load_settings
    from policy_assistant.eval.gold import load_gold
    from policy_assistant.eval.metrics import passage_matches
    from policy_assistant.retrieval.search import HybridRetriever

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index-dir", default=None)
    ap.add_argument("--gold", action="append", help="gold file (repeatable; default gold + dev_long)")
    ap.add_argument("--weights", default="0,0.5,1,1.5")
    args = ap.parse_args()
    golds = args.gold or ["eval/gold.jsonl", "eval/dev_long.jsonl"]
    if any(g.endswith("test.jsonl") for g in golds):
        raise SystemExit("error: the frozen test split is not for choosing weights; use the dev sets")
    settings = load_settings(**({"index_dir": args.index_dir} if args.index_dir else {}))
    r = HybridRetriever.load(settings)
    print("| gold | n | " + " | ".join(f"w={w} R@5 / MRR" for w in args.weights.split(",")) + " |")
    for gold in golds:
        items = [i for i in load_gold(gold) if i.sources]
        qvecs = r.embedder.embed_queries([i.q for i in items])
        cells = []
        for w in (float(x) for x in args.weights.split(",")):
            r.unit_weight = w
            ranks = []
            for qv, it in zip(qvecs, items, strict=True):
                hits = r.search(it.q, k=10, qvec=qv)
                ranks.append(next((k for k, h in enumerate(hits, 1) if passage_matches(
                    it, h.chunk.doc_title, [h.chunk.section], h.chunk.text)), None))
            r5 = np.mean([1.0 if x and x <= 5 else 0.0 for x in ranks])
            mrr = np.mean([1.0 / x if x else 0.0 for x in ranks])
            cells.append(f"{r5:.3f} / {mrr:.3f}")
        print(f"| {gold} | {len(items)} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
