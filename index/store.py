"""On-disk layout of an index folder: versions, the pointer to the current one, manifest, checksums.

An index folder holds::

    INDEX.json          ownership marker and pointer: {"kind": "policy-assistant index", "current": "v-…"}
    .build.lock         the build lock (see index/lock.py)
    v-<time>-<pid>/     one complete index version (below); the current one and the one before it
    .tmp-<pid>-<n>/     a version being written (removed by the next build if a build died)
    .INDEX.json.tmp-<pid>  the pointer being written (likewise)

and each version folder::

    manifest.json       format version, embedder name + dim, chunking, documents, build time, sha256 per file
    dense.faiss         faiss.IndexFlatIP over L2-normalised chunk vectors (row i = line i of chunks.jsonl)
    bm25/               bm25s arrays (.npy, no pickle) + vocab/params JSON
    chunks.jsonl        one Chunk per line (Chunk.to_dict()) plus its content_hash
    documents.json      document metadata (Document.to_meta() + n_chunks)
    domain_terms.txt    the jieba domain dictionary, one term a line (queries tokenize like the index)
    bm25_tokens.jsonl   the BM25 tokens of each chunk (reused by incremental builds)
    units.npy           float16 vectors of every evidence unit (sentence) of every chunk, in chunk order
    unit_offsets.npy    int64 row offsets: chunk i's units are rows offsets[i]:offsets[i+1]

A build writes a new version folder completely, then replaces ``INDEX.json`` with one atomic rename:
a reader sees the old version or the new one, never a half-swapped folder, and a reader whose version
was removed while it read simply reads the new current one (:func:`read_current`). The builder only
ever writes into a folder that carries its own ``INDEX.json`` (or an index of the first layout, or an
empty or new folder) and only deletes the version and temporary folders it named itself: a folder
with anything else in it is refused and left untouched.

No file is ever pickled. The manifest is written last in a version; loaders trust nothing the
manifest does not vouch for with a checksum, and every path it lists must stay inside its version.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TypeVar

import faiss
import numpy as np

from policy_assistant.core.errors import (
    IndexCorruptError,
    IndexFolderError,
    IndexMismatchError,
    IndexMissingError,
    os_error_fix,
)
from policy_assistant.corpus.model import Chunk, sha256_file
from policy_assistant.index.lock import LOCK_NAME

FORMAT_VERSION = 1
MARKER = "INDEX.json"
MARKER_KIND = "policy-assistant index"
MANIFEST = "manifest.json"
DENSE = "dense.faiss"
BM25_DIR = "bm25"
CHUNKS = "chunks.jsonl"
DOCUMENTS = "documents.json"
TERMS = "domain_terms.txt"
TOKENS = "bm25_tokens.jsonl"
UNITS = "units.npy"                 # float16 (n_units, dim): passage-role vectors of the evidence units
UNIT_OFFSETS = "unit_offsets.npy"   # int64 (n_chunks + 1): chunk i's units are rows offsets[i]:offsets[i+1]

VERSION_RE = re.compile(r"v-\d{8}T\d{6}-\d+-\d+")
TMP_RE = re.compile(r"\.tmp-\d+-\d+")
MARKER_TMP_RE = re.compile(r"\.INDEX\.json\.tmp-\d+")  # a pointer being written (left over if a build died)

REBUILD = "rebuild it with `policy-assistant index build --full`"
BUILD = "build it with `policy-assistant index build`"

T = TypeVar("T")
_counter = itertools.count()


# ---- ownership ---------------------------------------------------------------------------------


def _read_marker(index_dir: Path) -> dict | None:
    """The parsed ``INDEX.json`` if it is ours; ``None`` when absent or someone else's file."""
    try:
        data = json.loads((index_dir / MARKER).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("kind") != MARKER_KIND:
        return None
    return data


def _legacy_manifest(index_dir: Path) -> dict | None:
    """The manifest of an index of the first layout (files directly in the folder), else ``None``."""
    try:
        data = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if isinstance(data, dict) and "format_version" in data and isinstance(data.get("files"), dict):
        return data
    return None


def folder_state(index_dir: Path) -> str:
    """``absent`` | ``empty`` | ``own`` (has our INDEX.json) | ``legacy`` (first layout) | ``foreign``."""
    index_dir = Path(index_dir)
    if not index_dir.exists() and not index_dir.is_symlink():
        return "absent"
    if not index_dir.is_dir():
        return "foreign"
    if _read_marker(index_dir) is not None:
        return "own"
    if _legacy_manifest(index_dir) is not None:
        return "legacy"
    try:
        entries = [p for p in index_dir.iterdir() if p.name != LOCK_NAME and not MARKER_TMP_RE.fullmatch(p.name)]
    except OSError:
        return "foreign"
    return "empty" if not entries else "foreign"


def _foreign_error(index_dir: Path) -> IndexFolderError:
    try:
        names = sorted(p.name for p in index_dir.iterdir())[:3]
    except OSError:
        names = []
    what = f" ({', '.join(names)}{' …' if len(names) == 3 else ''})" if names else ""
    kind = "a file" if index_dir.exists() and not index_dir.is_dir() else "a folder with other files" + what
    return IndexFolderError(
        f"{index_dir} is not an index folder: it is {kind} and has no {MARKER}; nothing in it was changed",
        "set index_dir (or --index-dir) to a new or empty folder, e.g. data/index")


def claim(index_dir: Path) -> str:
    """Make sure the builder may write ``index_dir``; returns its :func:`folder_state` before the call.

    A new or empty folder gets an ``INDEX.json`` with no current version. A folder with anything else in
    it raises :class:`IndexFolderError` and is not touched.
    """
    index_dir = Path(index_dir)
    state = folder_state(index_dir)
    if state == "foreign":
        raise _foreign_error(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        if state in ("absent", "empty"):
            # Written beside, then linked into place: a build killed meanwhile leaves no empty INDEX.json (which
            # would make the folder look foreign), and link() never overwrites a marker a concurrent build made.
            tmp = _marker_tmp(index_dir, {"kind": MARKER_KIND, "current": None, "previous": None})
            try:
                os.link(tmp, index_dir / MARKER)
            except FileExistsError:
                if _read_marker(index_dir) is None:
                    raise _foreign_error(index_dir) from None
            finally:
                tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise IndexFolderError(f"cannot create the index folder {index_dir}: {exc.strerror}",
                               os_error_fix(exc, f"the folder {index_dir.parent}")) from exc
    return state


def has_index(index_dir: Path) -> bool:
    """True when ``index_dir`` holds a current index version (or an index of the first layout)."""
    index_dir = Path(index_dir)
    marker = _read_marker(index_dir)
    if marker is not None:
        cur = marker.get("current")
        return bool(isinstance(cur, str) and VERSION_RE.fullmatch(cur) and (index_dir / cur / MANIFEST).is_file())
    return _legacy_manifest(index_dir) is not None


# ---- versions and the pointer ------------------------------------------------------------------


def current_dir(index_dir: Path) -> Path:
    """The folder of the current index version (raises IndexMissingError / IndexFolderError)."""
    index_dir = Path(index_dir)
    marker = _read_marker(index_dir)
    if marker is None:
        state = folder_state(index_dir)
        if state == "legacy":
            return index_dir
        if state in ("absent", "empty"):
            raise IndexMissingError(f"no index at {index_dir}", BUILD)
        raise IndexFolderError(f"{index_dir} is not an index folder (no {MARKER})",
                               "set index_dir (or --index-dir) to the index folder, or build one in a new folder")
    cur = marker.get("current")
    if not cur:
        raise IndexMissingError(f"no index at {index_dir} yet (the first build has not finished)", BUILD)
    if not isinstance(cur, str) or not VERSION_RE.fullmatch(cur):
        raise IndexCorruptError(f"{index_dir / MARKER} names an invalid version {cur!r}", REBUILD)
    return index_dir / cur


def current_version(index_dir: Path) -> str:
    """A short stamp that changes whenever a build swaps in a new version ("" when there is none)."""
    try:
        d = current_dir(index_dir)
    except (IndexMissingError, IndexFolderError, IndexCorruptError):
        return ""
    if d == Path(index_dir):  # first layout: the manifest's build time
        return str((_legacy_manifest(d) or {}).get("built_at", "legacy"))
    return d.name


def read_current(index_dir: Path, load: Callable[[Path], T], attempts: int = 5) -> T:
    """``load(version_dir)`` on the current version; if a build swapped versions meanwhile, load again.

    A reader never reports a transient state (a version removed while it was being read) as damage:
    only a failure on a version that is still current is raised.
    """
    last: Exception | None = None
    for _ in range(max(1, attempts)):
        vdir = current_dir(index_dir)
        try:
            return load(vdir)
        except (IndexCorruptError, IndexMissingError, OSError) as exc:
            try:
                still = current_dir(index_dir) == vdir
            except (IndexMissingError, IndexFolderError, IndexCorruptError):
                still = False
            if still:
                raise
            last = exc
    assert last is not None
    raise last


def new_tmp_dir(index_dir: Path) -> Path:
    """A fresh, empty temporary version folder inside ``index_dir`` (call while holding the lock)."""
    tmp = Path(index_dir) / f".tmp-{os.getpid()}-{next(_counter)}"
    tmp.mkdir()
    return tmp


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


def _marker_tmp(index_dir: Path, data: dict) -> Path:
    """``data`` written and fsynced to a temporary pointer file in ``index_dir`` (see MARKER_TMP_RE)."""
    tmp = index_dir / f".{MARKER}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    return tmp


def _write_marker(index_dir: Path, current: str, previous: str | None) -> None:
    tmp = _marker_tmp(index_dir, {"kind": MARKER_KIND, "current": current, "previous": previous,
                                  "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S")})
    os.replace(tmp, index_dir / MARKER)
    _fsync_dir(index_dir)


def commit_version(tmp: Path, index_dir: Path,
                   progress: Callable[[str, int, int], None] | None = None) -> Path:
    """Make the fully written ``tmp`` the current version (one atomic pointer replace); returns its folder.

    Keeps the version before it (a reader may still be loading it), removes older versions this
    builder created, and, after converting an index of the first layout, that layout's own files.
    ``progress("commit", step, 2)`` reports each step (see ``index/build.py``).
    """
    index_dir = Path(index_dir)
    for p in tmp.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
    if progress:
        progress("commit", 0, 2)
    name = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns()}"
    final = index_dir / name
    os.replace(tmp, final)
    if progress:
        progress("commit", 1, 2)
    marker = _read_marker(index_dir)
    legacy = None if marker is not None else _legacy_manifest(index_dir)
    previous = (marker or {}).get("current")
    _write_marker(index_dir, name, previous if isinstance(previous, str) else None)
    if progress:
        progress("commit", 2, 2)
    remove_stale(index_dir)
    if legacy is not None:
        _remove_legacy_files(index_dir, legacy)
    return final


def stale_dirs(index_dir: Path) -> list[Path]:
    """Temporary folders and versions that are neither current nor previous (what :func:`remove_stale` removes).

    Only names this module creates (``v-…``, ``.tmp-…``) inside a folder it owns are ever listed.
    """
    index_dir = Path(index_dir)
    marker = _read_marker(index_dir)
    if marker is None and _legacy_manifest(index_dir) is None:
        return []
    keep = {(marker or {}).get("current"), (marker or {}).get("previous")}
    try:
        entries = list(index_dir.iterdir())
    except OSError:
        return []
    return sorted(p for p in entries if p.is_dir() and not p.is_symlink() and p.name not in keep
                  and (VERSION_RE.fullmatch(p.name) or TMP_RE.fullmatch(p.name)))


def remove_stale(index_dir: Path) -> list[Path]:
    """Delete the :func:`stale_dirs` and left-over pointer files (call while holding the build lock); returns
    what was removed."""
    removed = stale_dirs(index_dir)
    for p in removed:
        shutil.rmtree(p, ignore_errors=True)
    if _read_marker(index_dir) is not None:  # a pointer file a killed build left half-written
        for p in Path(index_dir).glob(f".{MARKER}.tmp-*"):
            if MARKER_TMP_RE.fullmatch(p.name) and p.is_file() and not p.is_symlink():
                p.unlink(missing_ok=True)
                removed.append(p)
    return removed


def _remove_legacy_files(index_dir: Path, manifest: dict) -> None:
    """After converting a first-layout index: remove exactly the files its manifest listed."""
    for rel in list((manifest.get("files") or {}).keys()) + [MANIFEST]:
        p = _confined(index_dir, rel)
        if p is not None and p.is_file():
            p.unlink(missing_ok=True)
    bm25 = index_dir / BM25_DIR
    if bm25.is_dir() and not any(bm25.iterdir()):
        bm25.rmdir()


def recover(index_dir: Path) -> None:
    """Tidy up after a crashed build (call while holding the lock): temporary and unused versions go."""
    remove_stale(index_dir)


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def write_chunks(path: Path, chunks: list[Chunk]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for c in chunks:
            d = c.to_dict()
            d["content_hash"] = c.content_hash
            f.write(json.dumps(d, ensure_ascii=False) + "\n")


def write_units(folder: Path, vectors: np.ndarray, offsets: np.ndarray) -> None:
    """The unit vectors and their per-chunk offsets as plain .npy files (no pickle)."""
    np.save(folder / UNITS, np.ascontiguousarray(vectors, dtype=np.float16), allow_pickle=False)
    np.save(folder / UNIT_OFFSETS, np.ascontiguousarray(offsets, dtype=np.int64), allow_pickle=False)


def write_tokens(path: Path, token_lists: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for tokens in token_lists:
            f.write(json.dumps(tokens, ensure_ascii=False) + "\n")


def read_tokens(version_dir: Path) -> list[list[str]]:
    """The stored BM25 tokens of a version (``[]`` if absent or unreadable: they are only a cache)."""
    try:
        with open(Path(version_dir) / TOKENS, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError):
        return []


def write_dense(path: Path, vectors: np.ndarray, dim: int) -> None:
    index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    # written by Python, not faiss.write_index: a full disk is then an OSError with its errno, not a RuntimeError
    path.write_bytes(faiss.serialize_index(index).tobytes())


def file_checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder`` except the manifest, keyed by relative POSIX path."""
    return {p.relative_to(folder).as_posix(): sha256_file(p)
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST}


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _confined(folder: Path, rel) -> Path | None:
    """``folder / rel`` when ``rel`` is a plain relative path that stays inside ``folder``, else ``None``."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\x00" in rel:
        return None
    pure = PurePosixPath(rel)
    if pure.is_absolute() or any(part in ("..", "") for part in pure.parts):
        return None
    return Path(folder).joinpath(*pure.parts)


def _check_manifest_shape(manifest, path: Path) -> None:
    """The manifest's parts have the types the loaders rely on (a hand-edited file fails here, clearly)."""
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        raise IndexCorruptError(f"{path} is not an index manifest", REBUILD)
    for key, kind in (("embedder", dict), ("documents", dict), ("files", dict), ("chunking", dict)):
        if key in manifest and not isinstance(manifest[key], kind):
            raise IndexCorruptError(f"{path}: '{key}' must be a JSON object, not {type(manifest[key]).__name__}",
                                    REBUILD)
    for rel, digest in (manifest.get("files") or {}).items():
        if _confined(path.parent, rel) is None or not isinstance(digest, str):
            raise IndexCorruptError(f"{path} lists the file {rel!r}, which is not inside the index folder",
                                    REBUILD)


def read_version_manifest(version_dir: Path) -> dict:
    """The checked manifest of one version folder (IndexCorruptError / IndexMismatchError)."""
    path = Path(version_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"index version {version_dir} has no {MANIFEST}", REBUILD) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"cannot read {path}: {exc}", REBUILD) from exc
    _check_manifest_shape(manifest, path)
    if manifest["format_version"] != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index at {version_dir} has format version {manifest['format_version']}, "
            f"this program reads version {FORMAT_VERSION}", REBUILD)
    return manifest


def read_manifest(index_dir: Path) -> dict:
    """The manifest of the current version of ``index_dir`` (IndexMissingError when there is none)."""
    return read_current(index_dir, read_version_manifest)


def verify_files(version_dir: Path, manifest: dict) -> None:
    """Every file the manifest lists exists inside ``version_dir`` and matches its sha256."""
    files = manifest.get("files") or {}
    for required in (DENSE, CHUNKS, DOCUMENTS, TERMS):
        if required not in files:
            raise IndexCorruptError(f"manifest of {version_dir} does not list {required}", REBUILD)
    for rel, digest in files.items():
        p = _confined(version_dir, rel)
        if p is None:
            raise IndexCorruptError(f"manifest of {version_dir} lists {rel!r}, outside the index folder", REBUILD)
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
    units: np.ndarray | None = None          # float16 unit vectors (None: an index without them)
    unit_offsets: np.ndarray | None = None


def load_version(version_dir: Path, embedder_name: str | None = None, dim: int | None = None) -> StoredIndex:
    """Read and verify one version folder (manifest, checksums, embedder, row counts). No BM25 load."""
    version_dir = Path(version_dir)
    manifest = read_version_manifest(version_dir)
    if embedder_name is not None:
        check_embedder(manifest, embedder_name, dim, version_dir.parent)
    verify_files(version_dir, manifest)
    try:
        with open(version_dir / CHUNKS, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        chunks = [Chunk.from_dict(r) for r in rows]
        hashes = [r.get("content_hash") or c.content_hash for r, c in zip(rows, chunks, strict=True)]
        documents = json.loads((version_dir / DOCUMENTS).read_text(encoding="utf-8"))
        terms = [t for t in (version_dir / TERMS).read_text(encoding="utf-8").splitlines() if t]
        index = faiss.read_index(str(version_dir / DENSE))
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RuntimeError) as exc:
        raise IndexCorruptError(f"cannot read the index at {version_dir}: {exc}", REBUILD) from exc
    want_dim = (manifest.get("embedder") or {}).get("dim")
    if index.ntotal != len(chunks) or index.d != want_dim:
        raise IndexCorruptError(
            f"index at {version_dir} is inconsistent: {index.ntotal} vectors of dim {index.d} "
            f"for {len(chunks)} chunks (manifest dim {want_dim})", REBUILD)
    vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), np.float32)
    units = offsets = None
    if UNITS in (manifest.get("files") or {}):
        try:
            units = np.load(version_dir / UNITS, allow_pickle=False)
            offsets = np.load(version_dir / UNIT_OFFSETS, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"cannot read the unit vectors at {version_dir}: {exc}", REBUILD) from exc
        if offsets.shape != (len(chunks) + 1,) or units.shape != (int(offsets[-1]), want_dim):
            raise IndexCorruptError(f"unit vectors at {version_dir} do not match the chunks", REBUILD)
    return StoredIndex(version_dir, manifest, chunks, hashes, np.asarray(vectors, dtype=np.float32), index,
                       documents, terms, version_dir / BM25_DIR, units=units, unit_offsets=offsets)


def load_stored(index_dir: Path, embedder_name: str | None = None, dim: int | None = None) -> StoredIndex:
    """:func:`load_version` of the current version of ``index_dir`` (retried if a build swaps meanwhile)."""
    return read_current(index_dir, lambda v: load_version(v, embedder_name, dim))
