"""Stage 2 — retrieve: the passages for each part of a question, fused by rank.

Every part is searched with its own query (the message's context plus the asking clause; its dense
vector comes from the part's focus, see ``analyse.split_parts``); a message
with several parts is also searched as a whole, and each part's list is fused with the whole-message
list by reciprocal rank (the part's own list counts more). All query vectors are embedded in one batch.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from policy_assistant.answer.types import Question

CANDIDATE_HITS = 10     # passages per part handed to the evidence stage
RRF_K = 60              # the usual reciprocal-rank-fusion constant (Cormack et al. 2009)
WHOLE_WEIGHT = 0.5      # weight of the whole-message list when fused into a part's list


def _fuse(lists: list[tuple[list, float]], k: int) -> list:
    """Reciprocal-rank fusion of hit lists ``[(hits, weight)]``; the first occurrence's Hit object is kept."""
    score: dict[str, float] = {}
    first: dict[str, object] = {}
    for hits, w in lists:
        for rank, h in enumerate(hits, 1):
            cid = h.chunk.chunk_id
            score[cid] = score.get(cid, 0.0) + w / (RRF_K + rank)
            first.setdefault(cid, h)
    order = sorted(score, key=lambda c: -score[c])[:k]
    out = []
    for rank, cid in enumerate(order, 1):
        h = first[cid]
        out.append(type(h)(**{**h.__dict__, "rank": rank, "score": score[cid]}))
    return out


def retrieve(question: Question, retriever, *, k: int = CANDIDATE_HITS, doc_ids: Iterable[str] | None = None,
             doc_types: Iterable[str] | None = None, exclude: Iterable[str] | None = None) -> tuple[list[list], list]:
    """``(hit lists, query vectors)``: one list per part of ``question`` (best first) and each part's query
    vector (the evidence stage compares it with sentences). ``exclude``: chunk ids never returned."""
    ids = list(doc_ids) if doc_ids else None
    if not ids and not doc_types and len(question.named_docs) == 1 and len(question.parts) == 1:
        ids = list(question.named_docs)  # "排污许可管理条例规定…": search that document
    type_terms = {} if question.english else retriever.vocabulary.type_terms
    # BM25 also looks for the words a passage stating the asked kind of answer uses (所称/是指 for a definition)
    queries = [" ".join([p.query, *type_terms.get(p.answer_type, ())]) for p in question.parts]
    whole = len(queries) > 1
    if whole:
        # one vector per part, embedded from its focus (the clause and the statements just before it);
        # the message's vector is their normalised sum — embedding the whole message as well would
        # double the cost of a long question. A part's dense query is its own vector plus the message's.
        queries.append(question.text)
        vecs = retriever.embedder.embed_queries([p.focus or p.text for p in question.parts])
        msg = np.sum(vecs, axis=0)
        msg = msg / (np.linalg.norm(msg) or 1.0)
        part_vecs = [v + msg for v in vecs]
        part_vecs = [v / (np.linalg.norm(v) or 1.0) for v in part_vecs]
        vecs = [*part_vecs, msg]
    else:
        vecs = retriever.embedder.embed_queries(queries)
    fetch = k if not whole else 2 * k
    lists = [retriever.search(q, k=fetch, doc_ids=ids, doc_types=doc_types, qvec=vecs[i], exclude=exclude)
             for i, q in enumerate(queries)]
    n = len(question.parts)
    if not whole:
        return lists[:1], list(vecs[:1])
    return [_fuse([(lists[i], 1.0), (lists[-1], WHOLE_WEIGHT)], k) for i in range(n)], list(vecs[:n])
