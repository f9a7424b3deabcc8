"""``policy-assistant index build|info`` and ``policy-assistant search``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from policy_assistant.cli import settings_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="build or inspect the retrieval index")
    isub = p.add_subparsers(dest="index_command", required=True)
    build = isub.add_parser("build", help="build or update the index (only changed chunks are re-embedded)")
    build.add_argument("--full", action="store_true", help="re-embed every chunk, ignoring the current index")
    build.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                       help="wait this long for another running build instead of refusing at once")
    build.add_argument("--json", action="store_true", help="print the build report as JSON")
    build.set_defaults(func=cmd_build)
    info = isub.add_parser("info", help="what the index holds; verifies every file checksum")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=cmd_info)

    s = sub.add_parser("search", help="ranked passages for a question (no answer), with breadcrumbs and scores")
    s.add_argument("question")
    s.add_argument("--k", type=int, default=None, help="number of hits (default: top_k from the config)")
    s.add_argument("--doc", action="append", help="only this document (title or unique part; repeatable)")
    s.add_argument("--doc-type", action="append", help="only this document type, e.g. 工作要点 or 法律 (repeatable)")
    s.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
    s.add_argument("--json", action="store_true", help="a JSON list of hits")
    s.set_defaults(func=cmd_search)


# Test hook, read only here: the build stops (sleeps) at the named progress event, e.g. "commit:1", so a fault
# test can kill -9 it at an exact step. Watching the output alone cannot do that: on a small corpus each stage
# takes milliseconds and the pointer replace microseconds, so a kill sent on reading a line lands at a random
# later point. See benchmarks/fault_matrix.py.


class _BuildProgress:
    """Progress bars on stderr: embedding (with chunks/s), then BM25 tokenising."""

    def __init__(self, bars: bool):
        self.show = bars
        self.bars: dict = {}
        from policy_assistant.index.build import PAUSE_ENV

        self.pause_env = PAUSE_ENV
        self.pause_at = os.environ.get(PAUSE_ENV, "")

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.pause_at in (stage, f"{stage}:{done}"):
            print(f"paused at {stage}:{done} ({self.pause_env}, pid {os.getpid()})", file=sys.stderr, flush=True)
            time.sleep(600)
        if not self.show or stage not in ("embed", "bm25"):
            return
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            desc = {"embed": "embedding", "bm25": "BM25 tokens"}.get(stage, stage)
            bar = self.bars[stage] = tqdm(total=total, desc=desc, unit="chunk", file=sys.stderr,
                                          dynamic_ncols=True)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def cmd_build(args) -> int:
    from policy_assistant.index.build import build_index

    settings = settings_from_args(args)
    progress = _BuildProgress(bars=not args.json)
    try:
        report = build_index(settings, progress, full=args.full, lock_wait=args.wait)
    finally:
        progress.close()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0
    how = "full build" + (f" ({report.reason})" if report.reason else "") if report.full_rebuild \
        else "incremental update"
    print(f"index: {report.index_dir}  [{how}]")
    print(f"  {report.n_documents} documents, {report.n_chunks} chunks; embedded {report.n_embedded}, "
          f"reused {report.n_reused}"
          + (f", resumed {report.n_resumed} (an unfinished build's)" if report.n_resumed else "")
          + f"; embedder {report.embedder} (dim {report.dim})")
    for label, docs in (("added", report.added_docs), ("changed", report.changed_docs),
                        ("removed", report.removed_docs)):
        if docs and not (label == "added" and report.full_rebuild and not report.removed_docs
                         and len(docs) == report.n_documents):
            print(f"  {label}: {', '.join(docs)}")
    rate = f", {report.chunks_per_second:.1f} chunks/s" if report.n_embedded else ""
    print(f"  {report.seconds_total:.1f} s total (ingest {report.seconds_ingest:.1f}, embed "
          f"{report.seconds_embed:.1f}{rate}, BM25 {report.seconds_bm25:.1f}, write {report.seconds_write:.1f}); "
          f"{report.size_bytes / 1e6:.1f} MB on disk")
    for w in report.warnings:
        print(f"  ! {w}")
    return 0


def cmd_info(args) -> int:
    from policy_assistant.index.embedders import embedder_name
    from policy_assistant.index.milvus_store import store_kind
    from policy_assistant.index.store import folder_size, read_current, read_version_manifest, verify_files

    settings = settings_from_args(args)

    def verified(version_dir):
        manifest = read_version_manifest(version_dir)
        verify_files(version_dir, manifest)
        return version_dir, manifest

    if store_kind(settings) == "milvus":
        from policy_assistant.index import milvus_store as ms

        parts = ms.read_manifest(ms.connect(settings), settings.milvus_collection)
        manifest = dict(parts["manifest"], sources=parts["sources"])
        where, version = f"{settings.milvus_uri} [{settings.milvus_collection}]", f"v{manifest.get('version')}"
        size, checked = 0, "Milvus store"
    else:
        version_dir, manifest = read_current(settings.index_dir, verified)
        where, version, size = str(settings.index_dir), version_dir.name, folder_size(version_dir)
        checked = f"checksums ok ({len(manifest.get('files', {}))} files)"
    if args.json:
        out = {"path": where, "version": version, "size_bytes": size, "checksums": "ok", **manifest}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    emb = manifest.get("embedder", {})
    ch = manifest.get("chunking", {})
    print(f"index: {where}  (version {version})")
    print(f"  format {manifest['format_version']}; built {manifest.get('built_at')}; {size / 1e6:.1f} MB; {checked}")
    print(f"  embedder {emb.get('name')} (dim {emb.get('dim')}); chunking max {ch.get('max_chars')} chars, "
          f"overlap {ch.get('overlap_chars')}")
    if emb.get("name") != embedder_name(settings.embedder):
        print(f"  ! the configuration asks for embedder {settings.embedder!r}: rebuild with "
              "`policy-assistant index build`")
    from policy_assistant.index.freshness import FreshnessChecker

    fresh = FreshnessChecker.for_settings(manifest, settings)
    if not fresh.supported:
        print("  ! built before corpus files were recorded: rebuild with `policy-assistant index build` to be told "
              "when the corpus changes")
    elif fresh.check().stale:
        print(f"  ! {fresh.check().message()}")
    else:
        print(f"  up to date with the corpus folders ({fresh.check().checked_files} files)")
    docs = manifest.get("documents", {})
    print(f"  {manifest.get('n_documents')} documents, {manifest.get('n_chunks')} chunks:")
    for d in sorted(docs.values(), key=lambda d: (d.get("doc_type", ""), d.get("title", ""))):
        print(f"    [{d.get('doc_type')}] {d.get('title')}  — {d.get('n_chunks')} chunks  ({d.get('file')})")
    return 0


def _short(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def cmd_search(args) -> int:
    from policy_assistant.cli import StaleWarning, text_argument
    from policy_assistant.retrieval.search import HybridRetriever

    settings = settings_from_args(args)
    question = text_argument(args.question)
    retriever = HybridRetriever.load(settings)
    StaleWarning(settings, retriever).check()
    docs = [text_argument(d, "document name") for d in args.doc] if args.doc else None
    hits = retriever.search(question, k=args.k, doc_ids=docs, doc_types=args.doc_type, mode=args.mode)
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("no matching passage")
        return 0
    for h in hits:
        dense = "—" if h.dense_score is None else f"{h.dense_score:.3f}" + (f" #{h.dense_rank}" if h.dense_rank else "")
        bm25 = "—" if h.bm25_score is None else f"{h.bm25_score:.2f}" + (f" #{h.bm25_rank}" if h.bm25_rank else "")
        print(f"{h.rank}. {h.chunk.section}")
        print(f"   score {h.score:.4f}  (dense {dense}; bm25 {bm25})")
        print(f"   {_short(h.chunk.text)}")
    return 0
