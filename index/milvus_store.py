"""The index in Milvus (``store = "milvus"``): chunks, dense vectors, Milvus' own BM25, the manifest.

``milvus_uri`` names the database: a local ``….db`` file runs Milvus Lite inside the process
(``pip install milvus-lite``; what the tests use), ``http://host:19530`` reaches Milvus Standalone or
Distributed with the same code (token from the variable named by ``milvus_token_env``).

Two collections, ``<milvus_collection>`` and ``<milvus_collection>_manifest``:

* chunks — primary key ``chunk_id``; ``content_hash``, ``doc_id``, ``doc_type``, ``status``
  (``active`` — the filter every search applies), ``position``, ``data`` (the chunk as JSON), ``text``
  (the normalised breadcrumb + text, analysed by Milvus: jieba — the tokenizer of Milvus' ``chinese``
  analyzer, which Milvus Lite does not name — in exact mode with the corpus' domain dictionary and the
  project's stop words), ``sparse`` (BM25 function output: Milvus computes BM25 itself, k1 1.5, b 0.75
  like bm25s) and ``dense`` (the embedder's vectors, FLAT inner product = cosine).
* manifest — key/value rows (JSON): ``manifest`` (format, embedder name + dim, chunking, analyzer,
  version, build time), ``doc:<id>`` (document metadata), ``terms:<n>`` and ``sources:<n>`` (the domain
  dictionary and the corpus files seen, in pieces below Milvus' VARCHAR limit).

Builds are incremental by content hash: a chunk whose ``chunk_id`` holds the same ``content_hash`` is
left alone, a changed or new one is upserted (its vector reused from any row with that hash), and rows
of chunks that are gone are deleted; the manifest's ``version`` goes up by one, so app servers that
poll it know to reload. A changed domain dictionary means a new analyzer: the collection is re-created
with the vectors carried over (nothing is embedded twice).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from policy_assistant.core.errors import (
    ConfigError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    StorageError,
)

FORMAT_VERSION = 1
MAX_VARCHAR = 65535
_PIECE = 20000  # characters per manifest piece (UTF-8 ≤ 3 bytes each, below MAX_VARCHAR bytes)
CHUNK_FIELDS = ["chunk_id", "content_hash", "doc_id", "doc_type", "status", "position", "data"]
BUILD = "run `policy-assistant index build` (with the same store settings)"

_CLIENTS: dict[str, object] = {}
_CLIENTS_LOCK = threading.Lock()


STORES = ("faiss", "milvus")


def store_kind(settings) -> str:
    """``settings.store`` checked: ``"faiss"`` (default) or ``"milvus"`` (ConfigError otherwise)."""
    kind = str(getattr(settings, "store", "faiss") or "faiss").strip().lower()
    if kind not in STORES:
        raise ConfigError(f"unknown store {kind!r}", f"set store to one of: {', '.join(STORES)}")
    return kind


def manifest_collection(name: str) -> str:
    return f"{name}_manifest"


def connect(settings):
    """A ``MilvusClient`` for ``settings.milvus_uri`` (one per URI and process; Milvus Lite starts here)."""
    uri = str(getattr(settings, "milvus_uri", "") or "")
    if not uri:
        raise ConfigError("store = \"milvus\" needs milvus_uri",
                          "set milvus_uri (POLICY_ASSISTANT_MILVUS_URI) to a local file such as data/milvus.db "
                          "or to http://host:19530")
    local = "://" not in uri
    if local and not uri.endswith(".db"):
        raise ConfigError(f"milvus_uri {uri!r} is neither a Milvus Lite file (….db) nor a URL",
                          "use a path ending in .db (Milvus Lite) or http://host:19530")
    with _CLIENTS_LOCK:
        if uri in _CLIENTS:
            return _CLIENTS[uri]
        if local:  # Milvus Lite's in-process gRPC server and pymilvus' keep-alive pings disagree; grpc then
            # logs harmless GOAWAY/reconnect errors on stderr (set before grpc loads; a user setting wins)
            os.environ.setdefault("GRPC_VERBOSITY", "NONE")
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:
            raise ConfigError("store = \"milvus\" needs pymilvus", "pip install pymilvus milvus-lite") from exc
        # pymilvus (which configures its loggers on import) warns on every query iterator against Milvus
        # Lite (no server-side timestamp): noise for users
        logging.getLogger("pymilvus").setLevel(logging.ERROR)
        logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
        if local:  # Milvus Lite analyses text with the process-wide Python jieba, which logs its start-up
            import jieba

            jieba.setLogLevel(60)
        if local:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        token_env = getattr(settings, "milvus_token_env", "") or ""
        try:
            client = MilvusClient(uri=uri, token=os.environ.get(token_env, "") if token_env else "")
        except Exception as exc:  # noqa: BLE001 - pymilvus raises many kinds; one readable message
            raise StorageError(f"cannot reach Milvus at {uri}: {exc}",
                               "start Milvus (or pip install milvus-lite for a .db file) and check milvus_uri") from exc
        _CLIENTS[uri] = client
        return client


def analyzer_params(domain_terms: Iterable[str]) -> dict:
    """jieba (exact mode, HMM) with the default dictionary plus the domain terms, and our stop words."""
    from policy_assistant.corpus.vocabulary import load_vocabulary

    stop_words = load_vocabulary().stop_words
    return {"tokenizer": {"type": "jieba", "mode": "exact", "hmm": True, "dict": ["_default_", *domain_terms]},
            "filter": ["cnalphanumonly", {"type": "stop", "stop_words": sorted(stop_words)}]}


def _pieces(text: str) -> list[str]:
    return [text[i:i + _PIECE] for i in range(0, len(text), _PIECE)] or [""]


def _create_manifest_collection(client, name: str) -> None:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=1024)
    schema.add_field("value", DataType.VARCHAR, max_length=MAX_VARCHAR)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
    index = client.prepare_index_params()
    index.add_index(field_name="v", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index)


def _create_chunk_collection(client, name: str, dim: int, terms: list[str]) -> None:
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("chunk_id", DataType.VARCHAR, is_primary=True, max_length=1024)
    schema.add_field("content_hash", DataType.VARCHAR, max_length=64)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
    schema.add_field("doc_type", DataType.VARCHAR, max_length=64)
    schema.add_field("status", DataType.VARCHAR, max_length=32)
    schema.add_field("position", DataType.INT64)
    schema.add_field("data", DataType.VARCHAR, max_length=MAX_VARCHAR)
    schema.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                     analyzer_params=analyzer_params(terms))
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                 output_field_names=["sparse"]))
    index = client.prepare_index_params()
    index.add_index(field_name="dense", index_type="FLAT", metric_type="IP")
    index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params={"bm25_k1": 1.5, "bm25_b": 0.75})
    client.create_collection(name, schema=schema, index_params=index)


def read_manifest(client, name: str) -> dict:
    """``{"manifest": {...}, "documents": {doc_id: meta}, "domain_terms": [...], "sources": [...]}``;
    IndexMissingError when the collections do not exist yet."""
    mname = manifest_collection(name)
    if not client.has_collection(mname) or not client.has_collection(name):
        raise IndexMissingError(f"no index in Milvus collection {name!r}", BUILD)
    client.load_collection(mname)
    rows = query_all(client, mname, ["key", "value"])
    by_key = {r["key"]: r["value"] for r in rows}
    if "manifest" not in by_key:
        raise IndexMissingError(f"the Milvus collection {name!r} has no manifest (a build did not finish)", BUILD)
    try:
        manifest = json.loads(by_key["manifest"])
        docs = {k[4:]: json.loads(v) for k, v in by_key.items() if k.startswith("doc:")}

        def joined(prefix: str):
            keys = sorted((k for k in by_key if k.startswith(prefix)), key=lambda k: int(k[len(prefix):]))
            return json.loads("".join(by_key[k] for k in keys)) if keys else []

        terms, sources = joined("terms:"), joined("sources:")
    except (ValueError, TypeError) as exc:
        raise IndexCorruptError(f"the manifest in Milvus collection {mname!r} is damaged: {exc}",
                                "rebuild with `policy-assistant index build --full`") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(f"Milvus collection {name!r} has format {manifest.get('format_version')}, "
                                 f"this program reads {FORMAT_VERSION}", "rebuild with `policy-assistant index build --full`")
    return {"manifest": manifest, "documents": docs, "domain_terms": terms, "sources": sources}


def write_manifest(client, name: str, manifest: dict, documents: dict[str, dict], terms: list[str],
                   sources: list) -> None:
    """Replace the manifest rows (the ``manifest`` row last: readers trust it only when it is there)."""
    mname = manifest_collection(name)
    old = {r["key"] for r in query_all(client, mname, ["key"])}
    zero = [0.0, 0.0]
    rows = [{"key": f"doc:{d}", "value": json.dumps(meta, ensure_ascii=False), "v": zero}
            for d, meta in documents.items()]
    for prefix, value in (("terms:", terms), ("sources:", sources)):
        rows += [{"key": f"{prefix}{i}", "value": p, "v": zero}
                 for i, p in enumerate(_pieces(json.dumps(value, ensure_ascii=False)))]
    for i in range(0, len(rows), 500):
        client.upsert(mname, rows[i:i + 500])
    gone = sorted(old - {r["key"] for r in rows} - {"manifest"})
    if gone:
        client.delete(mname, filter=f"key in {json.dumps(gone, ensure_ascii=False)}")
    client.upsert(mname, [{"key": "manifest", "value": json.dumps(manifest, ensure_ascii=False), "v": zero}])
    client.flush(mname) if hasattr(client, "flush") else None


def query_all(client, collection: str, fields: list[str], filter_expr: str = "") -> list[dict]:
    """Every row of ``collection`` matching ``filter_expr`` (paged: Milvus caps one query at 16,384 rows)."""
    pk = "key" if collection.endswith("_manifest") else "chunk_id"
    expr = filter_expr or f'{pk} != ""'
    it = client.query_iterator(collection, batch_size=4000, filter=expr, output_fields=fields)
    out: list[dict] = []
    try:
        while True:
            batch = it.next()
            if not batch:
                return out
            out.extend(batch)
    finally:
        it.close()


def chunk_rows(chunks, vectors: np.ndarray) -> list[dict]:
    """Milvus rows for ``chunks`` with their ``vectors`` (text normalised like our BM25 tokenizer sees it)."""
    from policy_assistant.corpus.text import normalize_query

    rows = []
    for c, v in zip(chunks, vectors, strict=True):
        d = c.to_dict()
        rows.append({"chunk_id": c.chunk_id, "content_hash": c.content_hash, "doc_id": c.doc_id,
                     "doc_type": c.doc_type, "status": "active", "position": int(c.position),
                     "data": json.dumps(d, ensure_ascii=False), "text": normalize_query(c.retrieval_text),
                     "dense": np.asarray(v, dtype=np.float32).tolist()})
    return rows


def quote_list(values: Iterable[str]) -> str:
    """A Milvus filter list literal (JSON strings are valid Milvus string literals)."""
    return json.dumps(list(values), ensure_ascii=False)


def index_stamp(settings) -> str:
    """A short stamp that changes whenever a build publishes a new index, for either store ("" when there
    is none): the file index's version folder, or the Milvus manifest's ``version`` (one small read, so
    app servers can poll it on every question)."""
    if store_kind(settings) == "faiss":
        from policy_assistant.index.store import current_version

        return current_version(Path(settings.index_dir))
    try:
        client = connect(settings)
        name = manifest_collection(settings.milvus_collection)
        if not client.has_collection(name):
            return ""
        client.load_collection(name)
        rows = client.get(name, ids=["manifest"], output_fields=["value"])
        version = json.loads(rows[0]["value"]).get("version") if rows else None
    except Exception:  # noqa: BLE001 - an unreachable or damaged store shows up when the index is loaded
        return ""
    return f"milvus:{settings.milvus_collection}:v{version}" if version else ""
