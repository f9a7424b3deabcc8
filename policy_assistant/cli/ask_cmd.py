"""``policy-assistant ask``: grounded answers with citations (one question, or a batch)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from policy_assistant.core.errors import PolicyAssistantError, QuestionError


def register(subparsers) -> None:
    p = subparsers.add_parser("ask", help="answer a question from the documents, with cited passages",
                              description="Answer a question from the indexed documents. Statuses: "
                              "answered / not_specified (the documents discuss it but do not state it) / not_found.")
    p.add_argument("question", nargs="?", help="the question, e.g. \"PM2.5年均浓度目标是多少?\"")
    p.add_argument("--json", action="store_true", help="print the answer as one JSON object (one per line with --batch)")
    p.add_argument("--explain", action="store_true",
                   help="with --json: add the feature values and model contributions behind the status")
    p.add_argument("--k", type=int, default=None, help="number of passages to retrieve (default: config top_k)")
    p.add_argument("--doc", action="append", default=None,
                   help="restrict to a document (title or a unique part of it; repeatable)")
    p.add_argument("--batch", metavar="FILE", help="questions, one per line (plain text or JSONL with \"q\"); '-' = stdin")
    p.set_defaults(func=run)


def read_batch(path: str) -> list:
    """The batch's lines (:class:`answer.batch.BatchLine`) from a file, or from stdin for ``-``."""
    from policy_assistant.answer.batch import parse_batch, read_batch_file

    if path == "-":
        return parse_batch(sys.stdin.buffer.read())  # bytes: the encoding is detected, never assumed
    return read_batch_file(Path(path))


def _resolve_docs(assistant, docs: list[str] | None) -> list[str] | None:
    if not docs:
        return None
    from policy_assistant.cli import text_argument

    r = assistant.retriever
    ids = []
    for d in docs:
        d = text_argument(d, "document name")
        ids.append(r.resolve_doc(d) if hasattr(r, "resolve_doc") else d)
    return ids


def sources_lines(citations, markdown: bool = False) -> list[str]:
    """The "来源:" block: each citation's number, breadcrumb, tags and the start of its passage.
    ``markdown``: as a Markdown list (the HTTP API's chat replies; indented lines would be code there)."""
    from policy_assistant.answer.types import FLAG_LABELS_ZH

    if not citations:
        return []
    item, more = ("- ", "  ") if markdown else ("  ", "      ")
    lines = ["来源:"]
    for c in citations:
        tag = " (相近内容,非答案依据)" if c.near_miss else ""
        tag += "".join(f" ({FLAG_LABELS_ZH.get(f, f)})" for f in c.flags)
        lines.append(f"{item}[{c.n}] {c.section}{tag}")
        lines.append(f"{more}{c.text.strip().replace(chr(10), ' ')[:160]}")
    return lines


def render_text(ans) -> str:
    from policy_assistant.answer.types import STATUS_LABELS_ZH

    prob = f" (P={ans.probability:.2f})" if ans.probability is not None else ""
    lines = [f"[{STATUS_LABELS_ZH.get(ans.status, ans.status)}{prob}] {ans.question}"]
    if ans.rewritten_question:
        lines.append(f"(理解为: {ans.rewritten_question})")
    lines += ["", ans.answer.strip(), ""]
    lines += sources_lines(ans.citations)
    for n in ans.notes:
        lines.append(f"注: {n}")
    return "\n".join(lines)


def _error_record(question: str, exc: PolicyAssistantError, line: int | None = None) -> dict:
    rec = {"question": question, "status": "not_found", "answer": f"{exc.message}。{exc.fix or ''}".strip(),
           "citations": [], "timings_ms": {"retrieve": 0, "answer": 0, "total": 0}, "error": str(exc)}
    if line is not None:
        rec["line"] = line
    return rec


def run(args: argparse.Namespace) -> int:
    from policy_assistant.answer.engine import Assistant
    from policy_assistant.cli import StaleWarning, settings_from_args, text_argument

    if not args.batch and args.question is None:
        raise QuestionError("no question given", 'usage: policy-assistant ask "问题" [--json] or ask --json --batch FILE')
    settings = settings_from_args(args)
    if args.k is not None and args.k < 1:
        raise PolicyAssistantError(f"--k must be at least 1 (got {args.k})", "use --k 5")
    batch = read_batch(args.batch) if args.batch else None  # a bad file fails before the models load
    question = None if batch is not None else text_argument(args.question, "question")
    assistant = Assistant.from_settings(settings)
    stale = StaleWarning(settings, assistant.retriever)
    doc_ids = _resolve_docs(assistant, args.doc)
    if batch is None:
        stale.check()
        ans = assistant.ask(question, doc_ids=doc_ids, top_k=args.k, explain=args.explain)
        print(json.dumps(ans.to_dict(), ensure_ascii=False, indent=None) if args.json else render_text(ans))
        return 0
    bad_lines = 0
    for item in batch:
        stale.check()
        ans = None
        if item.error is not None:
            bad_lines += 1
            print(f"error: {item.error}", file=sys.stderr, flush=True)
            rec = _error_record(item.question, item.error, item.line)
        else:
            try:
                ans = assistant.ask(item.question, doc_ids=doc_ids, top_k=args.k, explain=args.explain)
                rec = ans.to_dict()
            except QuestionError as exc:
                rec = _error_record(item.question, exc, item.line)
        if args.json:
            print(json.dumps(rec, ensure_ascii=False), flush=True)
        else:
            print(render_text(ans) if ans is not None else f"[error] {item.question[:60]}: {rec['error']}", flush=True)
            print("-" * 60, flush=True)
    # lines that are not readable questions are input errors: every other line was answered, then exit 2
    return 2 if bad_lines else 0
