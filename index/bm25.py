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
    """A Lucene-flavoured BM25 index over pre-tokenised documents (one token list per chunk)."""
    model = bm25s.BM25(method="lucene")
    docs = [list(tokens) for tokens in token_lists]
    if not any(docs):  # bm25s cannot build a vocabulary from nothing
        docs = [*docs[:-1], ["\u0000"]] if docs else [["\u0000"]]
    model.index(docs, show_progress=False)
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
