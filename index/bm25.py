"""BM25 over jieba tokens (bm25s), built once at index time and loaded for queries.

Arrays are saved with ``allow_pickle=False``; vocabulary and parameters are JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from policy_assistant.core.errors import IndexCorruptError

# bm25s logs one line per call for empty queries; those are normal here (English questions).
logging.getLogger("bm25s").setLevel(logging.WARNING)


def build_bm25(token_lists: Sequence[Sequence[str]]) -> bm25s.BM25:
    """A Lucene-flavoured BM25 index over pre-tokenised documents (one token list per chunk).

    The score matrix is computed with numpy in a few passes instead of bm25s' per-document Python
    loops (69k chunks: ~40 s → ~3 s); the result is the bm25s model ``index()`` builds (same formula,
    same arrays, checked against it in tests/test_tokenize_fast.py) and bm25s saves, loads and queries it.
    """
    model = bm25s.BM25(method="lucene")
    docs = [list(tokens) for tokens in token_lists]
    if not any(docs):  # bm25s cannot build a vocabulary from nothing
        docs = [*docs[:-1], ["\u0000"]] if docs else [["\u0000"]]
    vocab: dict[str, int] = {}
    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    ids = np.fromiter((vocab.setdefault(t, len(vocab)) for doc in docs for t in doc), dtype=np.int64,
                      count=int(lengths.sum()))
    n_docs, n_vocab = len(docs), len(vocab)
    pairs, tf = np.unique(np.repeat(np.arange(n_docs, dtype=np.int64), lengths) * n_vocab + ids, return_counts=True)
    doc, term = pairs // n_vocab, pairs % n_vocab
    df = np.bincount(term, minlength=n_vocab)
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)  # Lucene idf
    k1, b, avg_len = model.k1, model.b, lengths.mean()
    tf = tf.astype(np.float32).astype(np.float64)
    tfc = tf / (k1 * ((1 - b) + b * lengths[doc] / avg_len) + tf)  # Lucene tf component (as bm25s)
    scores = (idf[term].astype(np.float64) * tfc).astype(model.dtype)
    order = np.lexsort((doc, term))  # CSC: by term (column), then document
    indptr = np.zeros(n_vocab + 1, dtype=np.int32)
    np.cumsum(df, out=indptr[1:])
    model.scores = {"data": scores[order], "indices": doc[order].astype(model.int_dtype), "indptr": indptr,
                    "num_docs": n_docs}
    if "" not in vocab:  # bm25s' create_empty_token
        vocab[""] = n_vocab
    model.vocab_dict = vocab
    model.unique_token_ids_set = set(vocab.values())
    model.nonoccurrence_array = None  # only BM25L and BM25+ use it
    return model


def save_bm25(model: bm25s.BM25, folder: Path) -> None:
    model.save(str(folder), allow_pickle=False, show_progress=False)


def load_bm25(folder: Path) -> bm25s.BM25:
    try:
        return bm25s.BM25.load(str(folder), allow_pickle=False, show_progress=False)
    except (OSError, ValueError, KeyError) as exc:
        raise IndexCorruptError(f"cannot read the BM25 index in {folder}: {exc}",
                                "rebuild it with `policy-assistant index build --full`") from exc


def bm25_scores(model: bm25s.BM25, tokens: Sequence[str]) -> np.ndarray | None:
    """Scores of every indexed chunk for ``tokens``; ``None`` when no token is in the vocabulary."""
    ids = model.get_tokens_ids([t for t in tokens if t])
    if not ids:
        return None
    return np.asarray(model.get_scores_from_ids(ids), dtype=np.float32)
