"""``policy-assistant app`` (start the Streamlit app) and ``policy-assistant feedback export FILE``."""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import os
import sys
import threading
from pathlib import Path

from policy_assistant.core.errors import PolicyAssistantError

# The Streamlit entry file ships inside the package, so the app starts from an installed wheel anywhere.
# server.py is main.py as an st.App whose middleware refuses /_stcore/metrics (see its docstring).
APP_FILE = Path(importlib.util.find_spec("policy_assistant.app_pages").submodule_search_locations[0]) / "server.py"
DEFAULT_PORT = 8501


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "app",
        help="start the 政策助手 web app on localhost (builds the index first if it is missing)",
        description="Start the Streamlit chat app. Bound to 127.0.0.1 unless --host is given.",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; set app_password before exposing it on a network)")
    p.add_argument("--no-build", action="store_true", help="do not build a missing index before starting")
    p.add_argument("--no-preload", action="store_true",
                   help="do not load the index and models at server start (the first visitor then waits)")
    p.add_argument("--print-command", action="store_true", help="print the streamlit command and exit")
    p.set_defaults(func=run_app)

    f = subparsers.add_parser("feedback", help="the 👍/👎 feedback log collected by the app")
    fsub = f.add_subparsers(dest="feedback_command", required=True)
    e = fsub.add_parser("export", help="write the feedback log as JSON Lines (one rated answer per line)")
    e.add_argument("file", help="output file (.jsonl); '-' for stdout")
    e.set_defaults(func=export_feedback)
    s = fsub.add_parser("stats", help="count ratings in the feedback log")
    s.set_defaults(func=feedback_stats)


class _TerminalProgress:
    """Prints ``stage done/total`` lines, at most one per 10 % step, for ``build_index(progress=…)``."""

    def __init__(self):
        self.last: tuple[str, int] | None = None

    def __call__(self, stage, done=None, total=None, *args, **kwargs) -> None:
        if isinstance(done, int | float) and total:
            step = int(10 * done / total)
            if self.last == (stage, step):
                return
            self.last = (stage, step)
            print(f"  building index: {stage} {int(done)}/{int(total)}", file=sys.stderr, flush=True)
        else:
            print(f"  building index: {stage}", file=sys.stderr, flush=True)


def streamlit_command(host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(APP_FILE),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--client.showErrorDetails", "none",
        "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal",
        "--theme.primaryColor", "#2e7d32",
    ]


def app_environment(settings, base: dict | None = None) -> dict:
    """Environment for the Streamlit process: the same settings the CLI resolved (flags included)."""
    env = dict(os.environ if base is None else base)
    prefix = "POLICY_ASSISTANT_"
    if settings.config_path:
        env[prefix + "CONFIG"] = str(settings.config_path)
    env[prefix + "INDEX_DIR"] = str(settings.index_dir)
    env[prefix + "CORPUS_DIRS"] = os.pathsep.join(str(p) for p in settings.corpus_dirs)
    env[prefix + "FEEDBACK_DB"] = str(settings.feedback_db)
    env[prefix + "DATA_DIR"] = str(settings.data_dir)
    env[prefix + "ALLOW_MISSING_CORPUS"] = "true" if settings.allow_missing_corpus else "false"
    return env


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_app(args: argparse.Namespace) -> int:
    from policy_assistant.cli import settings_from_args

    settings = settings_from_args(args)
    if not APP_FILE.is_file():
        raise PolicyAssistantError(f"the app file {APP_FILE} is missing",
                                   "reinstall the package: pip install --force-reinstall policy-assistant")
    cmd = streamlit_command(args.host, args.port)
    if args.print_command:
        print(" ".join(cmd))
        return 0
    if not is_loopback(args.host) and not settings.app_password:
        print(f"warning: the app will listen on {args.host} without a password; set app_password in "
              "policy-assistant.toml or POLICY_ASSISTANT_APP_PASSWORD", file=sys.stderr)
    from policy_assistant.index.store import has_index

    if not args.no_build and not has_index(settings.index_dir):
        from policy_assistant.index.build import build_index

        print(f"No index in {settings.index_dir}: building it from {', '.join(map(str, settings.corpus_dirs))} …",
              file=sys.stderr, flush=True)
        build_index(settings, progress=_TerminalProgress())
    print(f"政策助手: http://{args.host}:{args.port}  (Ctrl+C to stop)", file=sys.stderr, flush=True)
    os.environ.update(app_environment(settings))
    if args.no_preload:
        # Replace this process with streamlit: signals reach the server directly, no orphan is left.
        sys.stdout.flush()
        os.execve(cmd[0], cmd, dict(os.environ))
    # Run streamlit in this process and load the index and models in the background right away, so the
    # first visitor does not wait for them (they land in the same st.cache_resource the page uses).
    threading.Thread(target=_preload, name="preload-assistant", daemon=True).start()
    from streamlit.web import cli as stcli

    sys.argv = ["streamlit", *cmd[cmd.index("run"):]]
    stcli.main()  # runs the server until Ctrl+C / SIGTERM, then exits
    return 0


def _preload() -> None:
    """Fill the app's Assistant cache before any browser connects (best effort; errors show in the page)."""
    import logging

    try:
        from policy_assistant.app_pages.common import preload_assistant
        from policy_assistant.core.config import load_settings

        seconds = preload_assistant(load_settings())
        print(f"index and models loaded in {seconds:.1f}s", file=sys.stderr, flush=True)
    except Exception:  # noqa: BLE001 - the page reports load errors with their fix
        logging.getLogger("policy_assistant.app").debug("preload failed", exc_info=True)


def export_feedback(args: argparse.Namespace) -> int:
    from policy_assistant.cli import settings_from_args
    from policy_assistant.eval.feedback import FeedbackStore, export_row

    settings = settings_from_args(args)
    store = FeedbackStore(settings.feedback_db)
    if args.file == "-":
        import json

        n = 0
        for row in store.rows():
            print(json.dumps(export_row(row), ensure_ascii=False))
            n += 1
    else:
        n = store.export_jsonl(Path(args.file))
    print(f"exported {n} feedback row(s) from {settings.feedback_db}", file=sys.stderr)
    return 0


def feedback_stats(args: argparse.Namespace) -> int:
    from collections import Counter

    from policy_assistant.cli import settings_from_args
    from policy_assistant.eval.feedback import FeedbackStore

    settings = settings_from_args(args)
    rows = FeedbackStore(settings.feedback_db).rows()
    ratings = Counter(r["rating"] or "none" for r in rows)
    by_status = Counter((r["status"], r["rating"] or "none") for r in rows)
    print(f"{len(rows)} row(s) in {settings.feedback_db}: 👍 {ratings['up']}  👎 {ratings['down']}")
    for (status, rating), n in sorted(by_status.items()):
        print(f"  {status:14s} {rating:5s} {n}")
    return 0
