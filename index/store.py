"""On-disk layout of an index folder, the manifest, checksums and the atomic swap.

An index folder holds::

    manifest.json       format version, embedder name + dim, chunking, documents, build time, sha256 per file
    dense.faiss         faiss.IndexFlatIP over L2-normalised chunk vectors (row i = line i of chunks.jsonl)
    bm25/               bm25s arrays (.npy, no pickle) + vocab/params JSON
    chunks.jsonl        one Chunk per line (Chunk.to_dict()) plus its content_hash
    documents.json      document metadata (Document.to_meta() + n_chunks)
    domain_terms.txt    the jieba domain dictionary, one term a line (queries tokenize like the index)
    bm25_tokens.jsonl   the BM25 tokens of each chunk (reused by incremental builds)

No file is ever pickled. The manifest is written last; loaders trust nothing the manifest does not
vouch for with a checksum.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from corpus.model import Chunk
from policy_assistant.errors import IndexCorruptError, IndexMismatchError, IndexMissingError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DENSE = "dense.faiss"
BM25_DIR = "bm25"
CHUNKS = "chunks.jsonl"
DOCUMENTS = "documents.json"
TERMS = "domain_terms.txt"
TOKENS = "bm25_tokens.jsonl"

REBUILD = "rebuild it with `policy-assistant index build --full`"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tmp_dir_for(index_dir: Path) -> Path:
    return index_dir.with_name(f".{index_dir.name}.tmp-{os.getpid()}")


def old_dir_for(index_dir: Path) -> Path:
    return index_dir.with_name(f".{index_dir.name}.old-{os.getpid()}")


def stale_dirs(index_dir: Path) -> list[Path]:
    """Leftovers of earlier builds (``.NAME.tmp-*`` / ``.NAME.old-*``) beside the index folder."""
    parent = index_dir.parent
    if not parent.is_dir():
        return []
    prefixes = (f".{index_dir.name}.tmp-", f".{index_dir.name}.old-")
    return sorted(p for p in parent.iterdir() if p.is_dir() and p.name.startswith(prefixes))


def recover(index_dir: Path) -> None:
    """Tidy up after a crashed build. Call only while holding the build lock.

    If a crash hit between the two renames of :func:`swap_in` the index folder is missing and the
    previous index sits in ``.NAME.old-*``: move it back. All other leftovers are deleted.
    """
    leftovers = stale_dirs(index_dir)
    if not index_dir.exists():
        olds = [p for p in leftovers if ".old-" in p.name and (p / MANIFEST).is_file()]
        if olds:
            newest = max(olds, key=lambda p: p.stat().st_mtime)
            os.replace(newest, index_dir)
            leftovers.remove(newest)
    for p in leftovers:
        shutil.rmtree(p, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - not supported on every platform
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def swap_in(new_dir: Path, index_dir: Path) -> None:
    """Replace ``index_dir`` by the fully written ``new_dir`` (two renames; see :func:`recover`)."""
    for p in new_dir.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
    old = None
    if index_dir.exists():
        old = old_dir_for(index_dir)
        if old.exists():
            shutil.rmtree(old)
        os.replace(index_dir, old)
    os.replace(new_dir, index_dir)
    _fsync_dir(index_dir.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def write_chunks(path: Path, chunks: list[Chunk]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for c in chunks:
            d = c.to_dict()
            d["content_hash"] = c.content_hash
            f.write(json.dumps(d, ensure_ascii=False) + "\n")


def write_tokens(path: Path, token_lists: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for tokens in token_lists:
            f.write(json.dumps(tokens, ensure_ascii=False) + "\n")


def read_tokens(index_dir: Path) -> list[list[str]]:
    """The stored BM25 tokens (``[]`` if the file is absent or unreadable: they are only a cache)."""
    try:
        with open(Path(index_dir) / TOKENS, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError):
        return []


def write_dense(path: Path, vectors: np.ndarray, dim: int) -> None:
    index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(index, str(path))


def file_checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder`` except the manifest, keyed by relative POSIX path."""
    return {p.relative_to(folder).as_posix(): sha256_file(p)
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST}


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def read_manifest(index_dir: Path) -> dict:
    """The manifest, or IndexMissingError / IndexCorruptError / IndexMismatchError (format)."""
    index_dir = Path(index_dir)
    path = index_dir / MANIFEST
    if not path.is_file():
        if not index_dir.exists() or not any(index_dir.iterdir()):
            raise IndexMissingError(f"no index at {index_dir}", "build it with `policy-assistant index build`")
        raise IndexCorruptError(f"index folder {index_dir} has no {MANIFEST} (an unfinished or foreign folder)",
                                REBUILD)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"cannot read {path}: {exc}", REBUILD) from exc
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        raise IndexCorruptError(f"{path} is not an index manifest", REBUILD)
    if manifest["format_version"] != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index at {index_dir} has format version {manifest['format_version']}, "
            f"this program reads version {FORMAT_VERSION}", REBUILD)
    return manifest


def verify_files(index_dir: Path, manifest: dict) -> None:
    """Every file the manifest lists exists and matches its sha256, and no listed file is missing."""
    files = manifest.get("files") or {}
    for required in (DENSE, CHUNKS, DOCUMENTS, TERMS):
        if required not in files:
            raise IndexCorruptError(f"manifest of {index_dir} does not list {required}", REBUILD)
    for rel, digest in files.items():
        p = Path(index_dir) / rel
        if not p.is_file():
            raise IndexCorruptError(f"index file {p} is missing", REBUILD)
        if sha256_file(p) != digest:
            raise IndexCorruptError(f"index file {p} does not match its checksum in {MANIFEST} "
                                    "(changed or damaged after the build)", REBUILD)


def check_embedder(manifest: dict, name: str, dim: int | None, index_dir: Path) -> None:
    """IndexMismatchError unless the index was built with embedder ``name`` (and ``dim``)."""
    built = manifest.get("embedder") or {}
    if built.get("name") != name or (dim is not None and built.get("dim") != dim):
        raise IndexMismatchError(
            f"index at {index_dir} was built with embedder {built.get('name')!r} "
            f"(dim {built.get('dim')}), but the configuration asks for {name!r}"
            + (f" (dim {dim})" if dim is not None else ""),
            f"rebuild with `policy-assistant index build` for {name!r}, or set "
            f"embedder = \"{built.get('name')}\" in policy-assistant.toml")


@dataclass
class StoredIndex:
    """The parts of an index folder, loaded and verified."""

    path: Path
    manifest: dict
    chunks: list[Chunk]
    content_hashes: list[str]
    vectors: np.ndarray
    faiss_index: object
    documents: list[dict]
    domain_terms: list[str]
    bm25_dir: Path
    warnings: list[str] = field(default_factory=list)


def load_stored(index_dir: Path, embedder_name: str | None = None, dim: int | None = None) -> StoredIndex:
    """Read and verify an index folder (manifest, checksums, embedder, row counts). No BM25 load."""
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    if embedder_name is not None:
        check_embedder(manifest, embedder_name, dim, index_dir)
    verify_files(index_dir, manifest)
    try:
        with open(index_dir / CHUNKS, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        chunks = [Chunk.from_dict(r) for r in rows]
        hashes = [r.get("content_hash") or c.content_hash for r, c in zip(rows, chunks, strict=True)]
        documents = json.loads((index_dir / DOCUMENTS).read_text(encoding="utf-8"))
        terms = [t for t in (index_dir / TERMS).read_text(encoding="utf-8").splitlines() if t]
        index = faiss.read_index(str(index_dir / DENSE))
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise IndexCorruptError(f"cannot read the index at {index_dir}: {exc}", REBUILD) from exc
    want_dim = (manifest.get("embedder") or {}).get("dim")
    if index.ntotal != len(chunks) or index.d != want_dim:
        raise IndexCorruptError(
            f"index at {index_dir} is inconsistent: {index.ntotal} vectors of dim {index.d} "
            f"for {len(chunks)} chunks (manifest dim {want_dim})", REBUILD)
    vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), np.float32)
    return StoredIndex(index_dir, manifest, chunks, hashes, np.asarray(vectors, dtype=np.float32), index,
                       documents, terms, index_dir / BM25_DIR)
