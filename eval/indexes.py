"""One cached index per chunking, in ``eval/cache/<chunking>-<hash>`` (git-ignored).

The hash covers everything that determines the index: the embedder, the format version, the chunking
parameters and the exact chunk list (ids + content hashes, so a change in the corpus *or* in the
chunker gives a new folder). An unchanged folder is reused without rebuilding; older folders of the
same chunking are removed after a successful build.

Indexes are built with the index helper's ``index.build.build_index(settings, corpus=...)``; the
recursive baseline passes its own chunk list through the ``corpus`` hook.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from policy_assistant.corpus.model import Chunk, Document
from policy_assistant.eval.configs import RECURSIVE, STRUCTURE
from policy_assistant.eval.splitter import (
    BASELINE_CHUNK_SIZE,
    BASELINE_OVERLAP,
    BASELINE_SEPARATORS,
    recursive_chunks,
)

DEFAULT_CACHE_DIR = Path(__file__).resolve().parent / "cache"
CACHE_FORMAT = 1  # bump when this module changes what goes into an index


class BaselineChunk(Chunk):
    """A recursive chunk that is embedded and BM25-indexed by its text alone (no title, no breadcrumb),
    like a LangChain ``Document.page_content``."""

    @property
    def retrieval_text(self) -> str:
        return self.text


@dataclass
class EvalCorpus:
    """A ``CorpusResult``-like object for ``build_index(corpus=...)`` plus, for scoring, the breadcrumbs
    each chunk overlaps (``where``; empty for structure chunks, whose own breadcrumb is exact)."""

    documents: list[Document]
    chunks: list[Chunk]
    domain_terms: list[str]
    warnings: list[str] = field(default_factory=list)
    where: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class PreparedIndex:
    chunking: str
    settings: object  # Settings with index_dir pointing at the cache folder
    built: bool       # False when an existing folder was reused
    n_chunks: int
    where: dict[str, list[str]]
    seconds: float = 0.0


def make_corpus(base, chunking: str) -> EvalCorpus:
    """Structure chunks straight from ingest, or the baseline's recursive chunks of the same documents."""
    if chunking == STRUCTURE:
        return EvalCorpus(base.documents, list(base.chunks), list(base.domain_terms), list(base.warnings))
    if chunking == RECURSIVE:
        chunks, where = recursive_chunks(base.documents)
        chunks = [BaselineChunk(**{f.name: getattr(c, f.name) for f in dataclasses.fields(Chunk)}) for c in chunks]
        return EvalCorpus(base.documents, chunks, list(base.domain_terms), list(base.warnings), where)
    raise ValueError(f"unknown chunking {chunking!r}")


def cache_key(settings, corpus: EvalCorpus, chunking: str) -> str:
    from policy_assistant.index.store import FORMAT_VERSION

    h = hashlib.sha256()
    params = {"cache_format": CACHE_FORMAT, "index_format": FORMAT_VERSION, "embedder": settings.embedder,
              "chunking": chunking}
    if chunking == STRUCTURE:
        params.update(max_chars=settings.chunk_max_chars, overlap=settings.chunk_overlap_chars)
    else:
        params.update(size=BASELINE_CHUNK_SIZE, overlap=BASELINE_OVERLAP, separators=list(BASELINE_SEPARATORS))
    h.update(json.dumps(params, sort_keys=True).encode())
    for c in corpus.chunks:
        h.update(f"{c.chunk_id}\t{c.content_hash}\n".encode())
    h.update("\n".join(corpus.domain_terms).encode())
    return h.hexdigest()[:12]


def _index_ok(folder: Path, settings) -> bool:
    try:
        from policy_assistant.index.store import load_stored

        load_stored(folder)
        return True
    except Exception:  # noqa: BLE001 — any problem means "rebuild"
        return False


def _prune(cache_dir: Path, chunking: str, keep: Path) -> None:
    pattern = re.compile(rf"^{re.escape(chunking)}-[0-9a-f]{{12}}$")
    for p in cache_dir.iterdir():
        if p.is_dir() and p != keep and pattern.match(p.name):
            shutil.rmtree(p, ignore_errors=True)


def _seed(folder: Path, cache_dir: Path, chunking: str, settings) -> None:
    """Start a new cache folder from the closest existing index, so ``build_index`` (incremental, keyed
    by chunk content hash) embeds only what changed: the newest older folder of the same chunking, or
    for structure chunks the configured index. A stale or incompatible seed just means a full build."""
    from policy_assistant.index.store import has_index

    pattern = re.compile(rf"^{re.escape(chunking)}-[0-9a-f]{{12}}$")
    candidates = sorted((p for p in cache_dir.iterdir() if p.is_dir() and pattern.match(p.name)),
                        key=lambda p: p.stat().st_mtime, reverse=True)
    if chunking == STRUCTURE:
        candidates.append(Path(settings.index_dir))
    for src in candidates:
        if src != folder and has_index(src):
            shutil.rmtree(folder, ignore_errors=True)
            try:
                shutil.copytree(src, folder)
                return
            except OSError:
                shutil.rmtree(folder, ignore_errors=True)


def prepare_index(settings, base_corpus, chunking: str, cache_dir: Path | None = None,
                  progress=None) -> PreparedIndex:
    """Build (or reuse) the cached index for ``chunking``; returns settings pointing at it."""
    import time

    from policy_assistant.index.build import build_index

    t0 = time.perf_counter()
    cache_dir = Path(cache_dir or DEFAULT_CACHE_DIR)
    cache_dir.mkdir(parents=True, exist_ok=True)
    corpus = make_corpus(base_corpus, chunking)
    folder = cache_dir / f"{chunking}-{cache_key(settings, corpus, chunking)}"
    s = dataclasses.replace(settings, index_dir=folder)
    built = False
    if not _index_ok(folder, s):
        _seed(folder, cache_dir, chunking, settings)
        build_index(s, progress=progress, corpus=corpus, lock_wait=3600)
        built = True
        _prune(cache_dir, chunking, folder)
    return PreparedIndex(chunking, s, built, len(corpus.chunks), corpus.where, time.perf_counter() - t0)


def existing_index(settings, chunking: str = STRUCTURE) -> PreparedIndex:
    """Use ``settings.index_dir`` as it is (``--reuse-index``): no cache, no build."""
    return PreparedIndex(chunking, settings, False, 0, {})
