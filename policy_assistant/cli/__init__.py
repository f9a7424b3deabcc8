"""``policy-assistant`` command line: parses input, calls the library, prints results.

Each sub-command group lives in its own module with a ``register(subparsers)`` function.
Domain errors are translated here into a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
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
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policy-assistant", description="政策助手 — policy assistant")
    parser.add_argument("--config", help="path to policy-assistant.toml (default: search from the working dir)")
    parser.add_argument("--corpus", action="append", help="corpus folder (repeatable; overrides the config)")
    parser.add_argument("--index-dir", help="index folder (overrides the config)")
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

    from policy_assistant.core.config import load_settings

    overrides = {}
    if getattr(args, "corpus", None):
        overrides["corpus_dirs"] = [str(Path(p).resolve()) for p in args.corpus]
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = str(Path(args.index_dir).resolve())
    cfg = Path(args.config) if getattr(args, "config", None) else None
    return load_settings(cfg, **overrides)


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
