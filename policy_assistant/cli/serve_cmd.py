"""``policy-assistant serve``: the HTTP API (FastAPI under uvicorn), bound to 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import argparse
import os
import sys

from policy_assistant.core.errors import PolicyAssistantError

DEFAULT_PORT = 8000


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="start the HTTP API (/v1/ask, /v1/chat/completions, … ; docs at /docs)",
        description="Serve the HTTP API over the index. Bound to 127.0.0.1 unless --host is given; set api_key "
                    "(POLICY_ASSISTANT_API_KEY) before exposing it on a network. The index is not built here: "
                    "run `policy-assistant index build`; a running server picks up a new build by itself.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes sharing the port (each loads the index; default 1)")
    p.add_argument("--no-access-log", action="store_true", help="do not log one line per request")
    p.set_defaults(func=run_serve)


def bind_warning(host: str, api_key: str) -> str | None:
    """The warning for listening beyond this machine without an API key (None when there is nothing to say)."""
    from policy_assistant.cli.app_cmd import is_loopback

    if is_loopback(host) or api_key:
        return None
    return (f"warning: the API will listen on {host} without an API key; anyone who can reach it can use it — "
            "set api_key in policy-assistant.toml or POLICY_ASSISTANT_API_KEY")


def check_port(host: str, port: int) -> None:
    """Raise a one-line error when ``host:port`` cannot be listened on (in use, not an address here)."""
    import errno
    import socket

    from policy_assistant.core.errors import os_error_fix

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        socket.create_server((host, port), family=family).close()
    except OSError as exc:
        fixes = {errno.EADDRINUSE: f"another program listens on port {port}: choose another --port",
                 errno.EADDRNOTAVAIL: f"{host} is not an address of this machine: use --host 127.0.0.1"}
        fix = fixes.get(exc.errno or -1) or (f"check the --host name {host!r}" if isinstance(exc, socket.gaierror)
                                             else os_error_fix(exc, "the port"))
        raise PolicyAssistantError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", fix) from exc


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from policy_assistant.api.app import create_app, log_to_stderr
    from policy_assistant.api.errors import check_key_setting
    from policy_assistant.cli import settings_from_args
    from policy_assistant.cli.app_cmd import app_environment

    settings = settings_from_args(args)
    if not 0 < args.port < 65536:
        raise PolicyAssistantError(f"--port must be between 1 and 65535 (got {args.port})", "use e.g. --port 8000")
    if args.workers < 1:
        raise PolicyAssistantError(f"--workers must be at least 1 (got {args.workers})", "use --workers 1")
    check_key_setting(settings.api_key)
    check_port(args.host, args.port)  # before the index loads, and with a fix instead of uvicorn's exit 1
    warning = bind_warning(args.host, settings.api_key)
    if warning:
        print(warning, file=sys.stderr)
    log_to_stderr()
    print(f"政策助手 API: http://{args.host}:{args.port}  (docs: /docs; Ctrl+C to stop)", file=sys.stderr, flush=True)
    options = {"host": args.host, "port": args.port, "access_log": not args.no_access_log,
               "timeout_graceful_shutdown": 10}
    if args.workers == 1:
        uvicorn.run(create_app(settings), **options)
    else:
        # worker processes build the app from the environment: hand them the settings resolved here
        os.environ.update(app_environment(settings))
        uvicorn.run("policy_assistant.api.app:app_from_environment", factory=True, workers=args.workers,
                    **options)
    return 0
