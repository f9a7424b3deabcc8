"""``policy-assistant corpus show|chunks``: what ingest produced."""

from __future__ import annotations

import argparse
import json

from policy_assistant.cli import settings_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("corpus", help="inspect the ingested documents and chunks")
    csub = p.add_subparsers(dest="corpus_command", required=True)
    show = csub.add_parser("show", help="documents, chunk counts and warnings")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=cmd_show)
    chunks = csub.add_parser("chunks", help="the chunks of one document with breadcrumbs")
    chunks.add_argument("doc", help="document title or a unique part of it")
    chunks.add_argument("--json", action="store_true", help="one JSON object per chunk")
    chunks.set_defaults(func=cmd_chunks)


def _load(args):
    from policy_assistant.corpus.ingest import corpus_from_settings

    return corpus_from_settings(settings_from_args(args))


def cmd_show(args) -> int:
    result = _load(args)
    counts = {}
    for c in result.chunks:
        counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
    if args.json:
        out = {
            "documents": [{**d.to_meta(), "chunks": counts.get(d.doc_id, 0)} for d in result.documents],
            "chunks": len(result.chunks),
            "warnings": result.warnings,
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(f"{len(result.documents)} documents, {len(result.chunks)} chunks\n")
    for d in result.documents:
        dates = " ".join(f"{k}{v}" for k, v in d.dates.items())
        print(f"  [{d.doc_type}] {d.title}  ({d.file})")
        print(f"      {counts.get(d.doc_id, 0)} chunks; issuer: {d.issuer or '—'}; {dates or 'no dates stated'}")
        for w in d.warnings:
            print(f"      note: {w}")
    if result.warnings:
        print("\nwarnings:")
        for w in result.warnings:
            print(f"  ! {w}")
    return 0


def cmd_chunks(args) -> int:
    result = _load(args)
    doc = result.find_document(args.doc)
    for c in result.chunks_for(doc.doc_id):
        if args.json:
            d = c.to_dict()
            print(json.dumps(d, ensure_ascii=False))
        else:
            part = f" (part {c.part + 1}/{c.n_parts})" if c.n_parts > 1 else ""
            print(f"[{c.position}] {c.section}{part}\n    {c.text}\n")
    return 0
