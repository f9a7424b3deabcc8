"""Issue 11: the project installs as one namespace from a wheel and its app starts outside the checkout.

Builds a wheel of the checkout, installs it into a fresh virtual environment (dependencies from the
package index, as a user would), then from a directory outside the checkout: ``policy-assistant --help``,
the installed top-level names, and ``policy-assistant app`` serving the page on a free port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from policy_assistant.api.launch import stop_process

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(ROOT)],
                   check=True, timeout=600)
    wheel = next((tmp / "dist").glob("policy_assistant-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = venv / "bin" / "pip"
    # torch is not needed here (the `st` extra is not requested); the rest comes from the package index.
    subprocess.run([str(pip), "install", "-q", str(wheel)], check=True, timeout=1800)
    return wheel, venv


def test_wheel_holds_one_namespace(wheel_venv):
    wheel, _ = wheel_venv
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"policy_assistant"}
    for sub in ("corpus", "index", "retrieval", "answer", "prompts", "eval", "training", "app_pages", "core", "cli"):
        assert f"policy_assistant/{sub}/__init__.py" in names, sub
    assert "policy_assistant/app_pages/main.py" in names
    assert "policy_assistant/eval/gold.jsonl" in names
    assert any(n.startswith("policy_assistant/prompts/") and n.endswith(".txt") for n in names)


def test_cli_and_app_from_an_installed_wheel_outside_the_checkout(wheel_venv, tmp_path, built_index):
    _, venv = wheel_venv
    exe = venv / "bin" / "policy-assistant"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_ASSISTANT_")}
    env.update(POLICY_ASSISTANT_INDEX_DIR=str(built_index.index_dir),
               POLICY_ASSISTANT_CORPUS_DIRS=os.pathsep.join(map(str, built_index.corpus_dirs)),
               POLICY_ASSISTANT_DATA_DIR=str(tmp_path / "data"),
               POLICY_ASSISTANT_FEEDBACK_DB=str(tmp_path / "data" / "fb.sqlite3"))
    r = subprocess.run([str(exe), "--help"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "policy-assistant" in r.stdout
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import importlib.util as u; print([n for n in ('corpus','index','eval','answer') "
                            "if u.find_spec(n)])"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert probe.stdout.strip() == "[]"
    port = _free_port()
    proc = subprocess.Popen([str(exe), "app", "--port", str(port), "--no-build"], cwd=elsewhere, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        body = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as resp:
                    body = resp.read().decode()
                    break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        assert body.strip() == "ok", proc.stdout.read() if proc.poll() is not None else "server did not start"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
            assert resp.status == 200
        # the page script itself runs from the installed package (imports, settings, index load)
        script = ("import policy_assistant.app_pages.main as m; from streamlit.testing.v1 import AppTest;"
                  "at = AppTest.from_file(m.__file__, default_timeout=120).run();"
                  "assert not at.exception, at.exception; assert not at.error, [e.value for e in at.error];"
                  "print('chat' if at.chat_input else 'no-chat', m.__file__)")
        r = subprocess.run([str(venv / "bin" / "python"), "-c", script], cwd=elsewhere, env=env,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        assert r.stdout.startswith("chat ") and str(venv) in r.stdout
    finally:
        stop_process(proc, timeout=20)
