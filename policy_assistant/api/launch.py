"""Start ``policy-assistant serve`` as a child process and wait until it answers ``/healthz``.

For the tests (a real server on 127.0.0.1) and ``benchmarks/bench_load.py`` (k servers over one index);
:func:`running_process` also starts the Streamlit app for the browser tests. Only the process started
here is ever stopped here.
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
from collections.abc import Callable, Iterator
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
    proc: subprocess.Popen | None
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


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate a child process started here; kill it if it has not ended after ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running_process(cmd: list[str], ready: Callable[[], bool], *, env: dict | None = None,
                    log_path: Path | None = None, timeout: float = 180, cwd: Path | None = None,
                    nice: int = 0, what: str = "the server") -> Iterator[subprocess.Popen]:
    """Start ``cmd`` (output to ``log_path``), poll ``ready()`` until it is true, yield the process, stop it
    afterwards. Raises RuntimeError with the end of the log when it exits or is not ready in time."""
    log = open(log_path, "w", encoding="utf-8") if log_path else subprocess.DEVNULL  # noqa: SIM115

    def tail() -> str:
        return Path(log_path).read_text(encoding="utf-8", errors="replace")[-2000:] if log_path else ""

    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, cwd=cwd, stdout=log,
                            stderr=subprocess.STDOUT, preexec_fn=(lambda: os.nice(nice)) if nice else None)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{what} exited with status {proc.returncode}: {tail()}")
            try:
                if ready():
                    break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not answer in {timeout:.0f}s: {tail()}")
            time.sleep(0.2)
        yield proc
    finally:
        stop_process(proc)
        if log is not subprocess.DEVNULL:
            log.close()


@contextmanager
def running_server(args: list[str] = (), *, env: dict | None = None, port: int | None = None,
                   log_path: Path | None = None, timeout: float = 180, cwd: Path | None = None,
                   nice: int = 0) -> Iterator[ServerProcess]:
    """``policy-assistant [args] serve --port PORT`` on 127.0.0.1 (``args`` are the global options, e.g.
    ``["--index-dir", DIR]``); yields once ``/healthz`` answers (200, or 503 when there is no index);
    stops the process afterwards."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "policy_assistant", *args, "serve", "--host", "127.0.0.1", "--port", str(port),
           "--no-access-log"]
    probe = ServerProcess(url, port, None, Path(log_path) if log_path else None)
    with running_process(cmd, lambda: bool(probe.health(timeout=2)), env=env, log_path=log_path,
                         timeout=timeout, cwd=cwd, nice=nice) as proc:
        probe.proc = proc
        yield probe
