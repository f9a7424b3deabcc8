"""``policy-assistant eval``: the gold set through configurations side by side, one table, reports.

``policy-assistant eval synth``: training questions generated from other laws (the scale corpus).

``policy-assistant eval-import-feedback``: draft gold items from the app's feedback log.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from policy_assistant.cli import settings_from_args


def register(sub: argparse._SubParsersAction) -> None:
    # no abbreviations: they would make `eval synth --n …` ambiguous with `--no-report`/`--no-charts`
    p = sub.add_parser("eval", allow_abbrev=False, help="run the gold set through configurations side by side",
                       description="Answer every gold question with each configuration and print one table "
                                   "(configurations: default, bm25, dense, baseline-recursive, no-structure, "
                                   "no-fusion, llm when configured).")
    p.add_argument("--config", dest="eval_configs", action="append", metavar="NAME",
                   help="configuration to run (repeatable or comma-separated; default: all available)")
    p.add_argument("--subset", choices=("all", "smoke"), default="all", help="all questions or the fast smoke subset")
    p.add_argument("--gold", help="gold file (default: eval/gold.jsonl)")
    p.add_argument("--limit", type=int, help="only the first N questions (after --subset)")
    p.add_argument("--json", action="store_true", help='print {"configs": {...}, "default": NAME, "n": N}')
    p.add_argument("--fail-under", action="append", default=[], metavar="METRIC=VALUE",
                   help="exit 1 when the default configuration's METRIC is below VALUE (above, for *_ms)")
    p.add_argument("--report-dir", help="where reports go (default: eval/reports next to the config file)")
    p.add_argument("--no-report", action="store_true", help="do not write report files")
    p.add_argument("--no-charts", action="store_true", help="reports without PNG charts")
    p.add_argument("--cache-dir", help="index cache folder (default: eval/cache)")
    p.add_argument("--reuse-index", action="store_true",
                   help="evaluate structure-chunk configurations on the configured index as it is "
                        "(no cache build; the index must be current)")
    p.add_argument("--merge", nargs="+", metavar="JSON",
                   help="run nothing: combine per-configuration report JSONs (D-<config>.json, e.g. from "
                        "parallel runs) into one table and one set of reports")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--split", choices=("dev", "test", "both"), default="both",
                   help="dev = the gold set (eval/gold.jsonl), test = the frozen test split (eval/test.jsonl, "
                        "never tuned on); both (default) reports them side by side")
    p.set_defaults(func=cmd_eval)
    eval_sub = p.add_subparsers(dest="eval_command", metavar="{synth,calibrate}")
    s = eval_sub.add_parser("synth", help="write training questions generated from other laws",
                            description="Generate questions mechanically from laws of the scale corpus that are "
                                        "not in the default corpus (answered, not_specified with the source "
                                        "hidden, not_found from unrelated laws, long multi-part messages); "
                                        "writes FILE (JSONL) and FILE.laws.json (the laws with their sha256).")
    s.add_argument("--scale-dir", help="scale corpus folder (default: scale_corpus_dir, ../shared/scale-corpus)")
    s.add_argument("--n", type=int, default=3000, help="number of items (default 3000)")
    s.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    s.add_argument("--n-index", type=int, default=60, help="laws the questions are answered from (default 60)")
    s.add_argument("--n-foreign", type=int, default=200,
                   help="unrelated laws for not_found questions (default 200: all that qualify)")
    s.add_argument("--gold", help="gold file whose questions are never produced (default: eval/gold.jsonl)")
    s.add_argument("--out", required=True, metavar="FILE", help="JSONL file to write")
    s.set_defaults(func=cmd_synth)
    c = eval_sub.add_parser("calibrate", help="train the unit and status models on generated questions from other "
                                          "laws and pick the operating point on the gold set (dev)")
    c.add_argument("--synth", help="generated questions (JSONL from `eval synth`; default data/train/synth.jsonl, "
                                   "generated when missing)")
    c.add_argument("--train-index", help="index folder for the generated questions' laws "
                                         "(default data/train/index)")
    c.add_argument("--out", help="folder for unit_model.json / status_model.json (default: answer/models)")
    c.add_argument("--n", type=int, default=3000, help="questions to generate when --synth is missing")
    # 25 laws ≈ 1,300 chunks + 3,500 sentences to embed: the training index stays a ~10-minute build on 2 cores
    c.add_argument("--n-index", type=int, default=25, help="laws the generated questions are answered from")
    c.add_argument("--gold", help="dev questions (default: eval/gold.jsonl + eval/dev_long.jsonl); their even md5 "
                                  "half trains and picks the operating point, the odd half stays held out")
    c.set_defaults(func=cmd_calibrate)

    f = sub.add_parser("eval-import-feedback", help="draft gold items from the app's feedback log")
    f.add_argument("--from", dest="source", help="feedback SQLite file or JSONL export (default: feedback_db)")
    f.add_argument("--out", help="draft file to write (default: eval/gold-drafts.jsonl)")
    f.add_argument("--rating", choices=("any", "rated", "up", "down"), default="any",
                   help="which rows to import (default: any)")
    f.add_argument("--gold", help="gold file whose questions are skipped (default: eval/gold.jsonl)")
    f.set_defaults(func=cmd_import_feedback)


def _eval_dir(settings) -> Path:
    return Path(settings.root) / "eval"


def cmd_eval(args) -> int:
    from policy_assistant.core.errors import ConfigError
    from policy_assistant.eval.gold import DEFAULT_TEST_PATH as TEST_PATH
    from policy_assistant.eval.gold import load_gold, smoke_items
    from policy_assistant.eval.report import (
        fail_under_violations,
        format_table,
        parse_fail_under,
        write_reports,
    )
    from policy_assistant.eval.runner import run_eval

    settings = settings_from_args(args)
    try:
        thresholds = parse_fail_under(args.fail_under)
    except ValueError as exc:
        raise ConfigError(str(exc), "e.g. --fail-under recall@5=0.9 --fail-under facts=0.8") from exc
    progress = None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    if args.merge:
        from policy_assistant.eval.runner import load_run

        try:
            run = load_run(args.merge)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"cannot merge report files: {exc}", "pass D-<config>.json files written by eval") from exc
    else:
        runs = {}
        splits = ["dev", "test"] if args.split == "both" else [args.split]
        if args.subset == "smoke" or args.gold:
            splits = ["dev"]  # the smoke subset and an explicit --gold file are dev questions
        for split in splits:
            path = args.gold if split == "dev" else str(TEST_PATH)
            items = load_gold(path)
            if args.subset == "smoke":
                items = smoke_items(items)
            if args.limit:
                items = items[: args.limit]
            if not items:
                raise ConfigError("no gold questions selected", "mark items with \"smoke\": true or use --subset all")
            if progress:
                progress(f"split {split}: {len(items)} questions")
            runs[split] = run_eval(settings, args.eval_configs, items, subset=args.subset,
                                   gold_path=str(path or "eval/gold.jsonl"),
                                   cache_dir=Path(args.cache_dir) if args.cache_dir else None,
                                   reuse_index=args.reuse_index, progress=progress)
        run = runs.get("dev") or runs["test"]
    if args.json:
        out = run.summary_json()
        if not args.merge and "test" in runs and run is not runs["test"]:
            out["test"] = runs["test"].summary_json()
        print(json.dumps(out, ensure_ascii=False))
    else:
        for split, r in ([("dev", run)] if args.merge else runs.items()):
            print(f"== {split}: {r.gold_path} ==")
            print(format_table(r))
        print(f"\n{run.n} questions ({run.subset}); * = default configuration; "
              "R@k/MRR: expected source in the top k; status/facts/correct: share of questions; "
              "citeP/citeR: citation precision/recall; dev = eval/gold.jsonl, test = eval/test.jsonl (frozen)")
    if not args.no_report:
        report_dir = Path(args.report_dir) if args.report_dir else _eval_dir(settings) / "reports"
        for split, r in ([("dev", run)] if args.merge else runs.items()):
            paths = write_reports(r, report_dir / ("" if split == "dev" else "test"), charts=not args.no_charts)
            md = [p for p in paths if p.suffix == ".md"]
            if progress:
                progress(f"reports ({split}): {', '.join(str(p) for p in md)}")
    if thresholds:
        violations = fail_under_violations(run.get(run.default_name).summary, thresholds)
        if violations:
            for v in violations:
                print(f"eval: FAILED [{run.default_name}] {v}", file=sys.stderr)
            return 1
    return 0


def cmd_calibrate(args) -> int:
    from policy_assistant.eval.calibrate import calibrate, load_laws_corpus
    from policy_assistant.eval.gold import DEFAULT_DEV_LONG_PATH, load_gold
    from policy_assistant.eval.synth import make_dataset, project_titles, write_dataset

    settings = settings_from_args(args)
    data = Path(settings.data_dir) / "train"
    synth = Path(args.synth) if args.synth else data / "synth.jsonl"
    gold = load_gold(args.gold)
    dev = gold if args.gold else gold + load_gold(DEFAULT_DEV_LONG_PATH)
    if not synth.is_file():
        print(f"generating {args.n} training questions from {args.n_index} other laws into {synth} …", file=sys.stderr)
        items, laws = make_dataset(settings.scale_corpus_dir, project_titles(settings.corpus_dirs), n=args.n,
                                   n_index=args.n_index, exclude_questions={it.q for it in gold},
                                   max_chars=settings.chunk_max_chars, overlap=settings.chunk_overlap_chars)
        write_dataset(items, laws, synth)
    summary = calibrate(settings, synth_path=synth, train_index_dir=Path(args.train_index or data / "index"),
                        dev_items=dev, out_dir=Path(args.out) if args.out else None,
                        load_training_corpus=lambda laws: load_laws_corpus(laws, settings),
                        progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


def cmd_import_feedback(args) -> int:
    from policy_assistant.eval.feedback_import import import_feedback, read_feedback, write_drafts
    from policy_assistant.eval.gold import GoldSetError, load_gold

    settings = settings_from_args(args)
    rows = read_feedback(Path(args.source) if args.source else settings.feedback_db)
    try:
        known = {it.q for it in load_gold(args.gold)}
    except GoldSetError:
        known = set()
    drafts = import_feedback(rows, rating=args.rating, known_questions=known)
    out = Path(args.out) if args.out else _eval_dir(settings) / "gold-drafts.jsonl"
    write_drafts(drafts, out)
    print(f"{len(drafts)} draft gold item(s) from {len(rows)} feedback row(s) → {out}\n"
          "review each: check status and sources, write facts, delete \"draft\": true, move into eval/gold.jsonl")
    return 0


def cmd_synth(args) -> int:
    from policy_assistant.core.errors import ConfigError
    from policy_assistant.eval.gold import load_gold
    from policy_assistant.eval.synth import check_out, make_dataset, project_titles, summarize, write_dataset

    settings = settings_from_args(args)
    for name in ("n", "n_index", "n_foreign"):
        if getattr(args, name) < 1:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} must be at least 1, got {getattr(args, name)}", f"e.g. {flag} 100")
    check_out(Path(args.out))  # before the work, not after it
    scale_dir = Path(args.scale_dir).resolve() if args.scale_dir else settings.scale_corpus_dir
    gold = {it.q for it in load_gold(args.gold)}
    items, laws = make_dataset(scale_dir, project_titles(settings.corpus_dirs), n=args.n, seed=args.seed,
                               n_index=args.n_index, n_foreign=args.n_foreign, exclude_questions=gold,
                               max_chars=settings.chunk_max_chars, overlap=settings.chunk_overlap_chars)
    out, laws_file = write_dataset(items, laws, Path(args.out))
    print(f"{len(items)} items → {out}; laws: {laws_file} ({len(laws['index_laws'])} index laws, "
          f"{len(laws['foreign_laws'])} foreign laws)")
    for name, counts in summarize(items).items():
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    return 0
