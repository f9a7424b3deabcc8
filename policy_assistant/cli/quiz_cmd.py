"""``policy-assistant quiz``: print a self-check quiz generated from the documents (for trainers)."""

from __future__ import annotations

import argparse
import json
import sys

from policy_assistant.cli import settings_from_args

LETTERS = "ABCDEFGH"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quiz", help="generate a self-check quiz from the documents (deterministic per seed)")
    p.add_argument("--n", type=int, default=20, help="number of questions (default 20)")
    p.add_argument("--seed", type=int, default=7, help="the same seed gives the same quiz (default 7)")
    p.add_argument("--doc", help="only this document (title, id or a unique part of the title)")
    p.add_argument("--section", help="only this section: a heading, label or part of the breadcrumb "
                                     "(e.g. 二、主要目标, 附件1, 第二章)")
    p.add_argument("--type", action="append", dest="types",
                   choices=["fill_figure", "missing_item", "which_article", "true_false"],
                   help="only these question types (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON object per line per question")
    p.set_defaults(func=cmd_quiz)


def cmd_quiz(args) -> int:
    from policy_assistant.training.outline import load_corpus_cached
    from policy_assistant.training.quiz import TYPE_LABELS, generate_quiz

    if args.n < 1:
        print("error: --n must be at least 1", file=sys.stderr)
        return 2
    corpus = load_corpus_cached(settings_from_args(args))
    questions = generate_quiz(corpus, n=args.n, seed=args.seed, doc=args.doc, section=args.section,
                              types=args.types)
    if len(questions) < args.n:
        print(f"note: the scope yields only {len(questions)} questions", file=sys.stderr)
    if args.json:
        for q in questions:
            print(json.dumps(q.to_public_dict(), ensure_ascii=False))
        return 0
    scope = " › ".join(x for x in (args.doc, args.section) if x) or "全部文件"
    print(f"自测题（{scope}；{len(questions)} 题；种子 {args.seed}）\n")
    for i, q in enumerate(questions, 1):
        print(f"{i}. 【{TYPE_LABELS.get(q.type, q.type)}】{q.question}")
        for j, c in enumerate(q.choices if q.type != "true_false" else []):
            print(f"   {LETTERS[j]}. {c}")
        print()
    print("—— 答案与出处 ——\n")
    for i, q in enumerate(questions, 1):
        answer = q.answer
        if q.choices and q.type != "true_false":
            answer = f"{LETTERS[q.choices.index(q.answer)]}. {q.answer}"
        print(f"{i}. {answer}\n   出处：{q.section}\n   {q.explanation}\n")
    return 0
