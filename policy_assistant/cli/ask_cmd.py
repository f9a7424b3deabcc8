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
    p.add_argument("--k", type=int, default=None, help="number of passages to retrieve (default: config top_k)")
    p.add_argument("--doc", action="append", default=None,
                   help="restrict to a document (title or a unique part of it; repeatable)")
    p.add_argument("--batch", metavar="FILE", help="questions, one per line (plain text or JSONL with \"q\"); '-' = stdin")
    p.set_defaults(func=run)


def read_batch(path: str) -> list[str]:
    """Questions from a file: plain lines, or JSON objects with a "q" (or "question") field."""
    if path == "-":
        lines = sys.stdin.read().splitlines()
    else:
        p = Path(path)
        if not p.is_file():
            raise PolicyAssistantError(f"batch file {path} does not exist", "give a file with one question per line")
        lines = p.read_text(encoding="utf-8-sig").splitlines()
    out = []
    for line in lines:
        s = line.strip()
        if not s:
            continue
        if s.startswith("{"):
            try:
                obj = json.loads(s)
                s = str(obj.get("q") or obj.get("question") or "")
            except json.JSONDecodeError:
                pass
        out.append(s)
    return out


def _resolve_docs(assistant, docs: list[str] | None) -> list[str] | None:
    if not docs:
        return None
    r = assistant.retriever
    ids = []
    for d in docs:
        ids.append(r.resolve_doc(d) if hasattr(r, "resolve_doc") else d)
    return ids


def render_text(ans) -> str:
    from policy_assistant.answer.types import FLAG_LABELS_ZH, STATUS_LABELS_ZH

    lines = [f"[{STATUS_LABELS_ZH.get(ans.status, ans.status)}] {ans.question}"]
    if ans.rewritten_question:
        lines.append(f"(理解为: {ans.rewritten_question})")
    lines += ["", ans.answer.strip(), ""]
    if ans.citations:
        lines.append("来源:")
        for c in ans.citations:
            tag = " (相近内容,非答案依据)" if c.near_miss else ""
            tag += "".join(f" ({FLAG_LABELS_ZH.get(f, f)})" for f in c.flags)
            lines.append(f"  [{c.n}] {c.section}{tag}")
            lines.append(f"      {c.text.strip().replace(chr(10), ' ')[:160]}")
    for n in ans.notes:
        lines.append(f"注: {n}")
    return "\n".join(lines)


def _error_record(question: str, exc: PolicyAssistantError) -> dict:
    return {"question": question, "status": "not_found", "answer": f"{exc.message}。{exc.fix or ''}".strip(),
            "citations": [], "timings_ms": {"retrieve": 0, "answer": 0, "total": 0}, "error": str(exc)}


def run(args: argparse.Namespace) -> int:
    from policy_assistant.answer.engine import Assistant
    from policy_assistant.cli import settings_from_args

    if not args.batch and args.question is None:
        raise QuestionError("no question given", 'usage: policy-assistant ask "问题" [--json] or ask --json --batch FILE')
    settings = settings_from_args(args)
    if args.k is not None and args.k < 1:
        raise PolicyAssistantError(f"--k must be at least 1 (got {args.k})", "use --k 5")
    assistant = Assistant.from_settings(settings)
    doc_ids = _resolve_docs(assistant, args.doc)
    if args.batch:
        for q in read_batch(args.batch):
            try:
                ans = assistant.ask(q, doc_ids=doc_ids, top_k=args.k)
                rec = ans.to_dict()
            except QuestionError as exc:
                rec = _error_record(q, exc)
            if args.json:
                print(json.dumps(rec, ensure_ascii=False), flush=True)
            else:
                print(render_text(ans) if "error" not in rec else f"[error] {q[:60]}: {rec['error']}")
                print("-" * 60)
        return 0
    ans = assistant.ask(args.question, doc_ids=doc_ids, top_k=args.k)
    print(json.dumps(ans.to_dict(), ensure_ascii=False, indent=None) if args.json else render_text(ans))
    return 0
