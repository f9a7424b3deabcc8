"""Start ``policy-assistant serve`` as a child process and wait until it answers ``/healthz``.

For the tests (a real server on 127.0.0.1) and ``benchmarks/bench_load.py`` (k servers over one index).
Only the process started here is ever stopped here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class ServerProcess:
    """A running server: its base URL (``http://127.0.0.1:PORT``), port, process and log file."""

    url: str
    port: int
    proc: subprocess.Popen
    log_path: Path | None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path else ""

    def health(self, timeout: float = 5) -> tuple[int, dict]:
        """``(status, body)`` of ``GET /healthz``."""
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=timeout) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


@contextmanager
def running_server(args: list[str] = (), *, env: dict | None = None, port: int | None = None,
                   log_path: Path | None = None, timeout: float = 180, cwd: Path | None = None,
                   nice: int = 0) -> Iterator[ServerProcess]:
    """``policy-assistant [args] serve --port PORT`` on 127.0.0.1 (``args`` are the global options, e.g.
    ``["--index-dir", DIR]``); yields once ``/healthz`` answers (200, or 503 when there is no index);
    stops the process afterwards."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "policy_assistant", *args, "serve", "--host", "127.0.0.1", "--port", str(port),
           "--no-access-log"]
    full_env = {**os.environ, **(env or {})}
    log = open(log_path, "w", encoding="utf-8") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=full_env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=(lambda: os.nice(nice)) if nice else None)
    server = ServerProcess(f"http://127.0.0.1:{port}", port, proc, Path(log_path) if log_path else None)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with status {proc.returncode}: {server.log()[-2000:]}")
            try:
                server.health(timeout=2)
                break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer in {timeout:.0f}s: {server.log()[-2000:]}")
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log is not subprocess.DEVNULL:
            log.close()
