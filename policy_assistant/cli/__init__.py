"""``policy-assistant`` command line: parses input, calls the library, prints results.

Each sub-command group lives in its own module with a ``register(subparsers)`` function.
Domain errors are translated here into a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from policy_assistant.core.errors import PolicyAssistantError

# Modules that add sub-commands; each exposes register(subparsers).
COMMAND_MODULES = [
    "policy_assistant.cli.corpus_cmd",
    "policy_assistant.cli.index_cmd",
    "policy_assistant.cli.ask_cmd",
    "policy_assistant.cli.eval_cmd",
    "policy_assistant.cli.quiz_cmd",
    "policy_assistant.cli.app_cmd",
    "policy_assistant.cli.serve_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policy-assistant", description="政策助手 — policy assistant")
    parser.add_argument("--config", help="path to policy-assistant.toml (default: search from the working dir)")
    parser.add_argument("--corpus", action="append", help="corpus folder (repeatable; overrides the config)")
    parser.add_argument("--index-dir", help="index folder (overrides the config)")
    parser.add_argument("--allow-missing", action="store_true", default=None,
                        help="go on when a corpus folder does not exist (a warning instead of an error; "
                             "config: allow_missing_corpus)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # command group not present in this build
            raise
        module.register(sub)
    return parser


def settings_from_args(args: argparse.Namespace):
    """The one Settings object, with CLI flags applied over file and environment."""
    from pathlib import Path

    from policy_assistant.core.config import absolute, load_settings

    overrides = {}
    if getattr(args, "corpus", None):
        overrides["corpus_dirs"] = [str(absolute(p)) for p in args.corpus]
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = str(absolute(args.index_dir))
    if getattr(args, "allow_missing", None):
        overrides["allow_missing_corpus"] = True
    cfg = Path(args.config) if getattr(args, "config", None) else None
    return load_settings(cfg, **overrides)


def text_argument(value: str, what: str = "question") -> str:
    """A command-line text as the user meant it. Python hands over bytes that are not UTF-8 as lone
    surrogates (which crash the embedder later); they are decoded like a batch file (UTF-8, else GBK),
    or refused with one clear line."""
    from policy_assistant.core.errors import QuestionError
    from policy_assistant.corpus.text import decode_lines, undecodable_bytes

    bad = undecodable_bytes(value)
    if bad is None:
        return value
    lines, _ = decode_lines(os.fsencode(value))
    if len(lines) == 1 and lines[0] is not None:
        return lines[0]
    raise QuestionError(f"the {what} is not valid UTF-8 or GBK text (bytes {bad})",
                        "set the terminal to UTF-8 (e.g. LANG=C.UTF-8) and type it again, or put it in a "
                        "UTF-8 file and use `policy-assistant ask --batch FILE`")


class StaleWarning:
    """Prints one warning line on stderr when the index no longer matches the corpus folders (documents
    added, changed or removed since the build); checked cheaply, printed again only when it changes."""

    def __init__(self, settings, retriever):
        from policy_assistant.index.freshness import FreshnessChecker

        self.checker = FreshnessChecker.for_settings(getattr(retriever, "manifest", None) or {}, settings)
        self.shown: str | None = None

    def check(self) -> None:
        result = self.checker.check()
        text = result.message() if result.stale else None
        if text and text != self.shown:
            print(f"warning: {text}", file=sys.stderr, flush=True)
        self.shown = text


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PolicyAssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
