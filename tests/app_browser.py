"""Run the app with ``streamlit run`` and drive it with Debian's headless Chromium (Selenium).

Shared by ``tests/test_app_browser.py`` and ``benchmarks/bench_app.py``. Not a test module itself.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from policy_assistant.api.launch import free_port, running_process

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--window-size=1400,1800", "--lang=zh-CN",
)
CHAT_INPUT = 'textarea[data-testid="stChatInputTextArea"], [data-testid="stChatInput"] textarea'
CHAT_MESSAGE = '[data-testid="stChatMessage"]'


def browser_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver"
    if not CHROMEDRIVER.exists():
        return f"{CHROMEDRIVER} is missing: apt-get install -y chromium-driver"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[dev]'"
    return None


def settings_env(settings) -> dict[str, str]:
    env = {}
    for f in dataclasses.fields(settings):
        if f.name == "config_path":
            continue
        value = getattr(settings, f.name)
        if isinstance(value, list):
            value = os.pathsep.join(str(v) for v in value)
        env["POLICY_ASSISTANT_" + f.name.upper()] = str(value)
    return env


@contextmanager
def running_app(settings, log_path: Path, *, extra_env: dict | None = None, timeout: float = 90,
                via_cli: bool = False):
    """The app on a free localhost port; yields the URL; stops the server afterwards.

    Default: plain ``streamlit run app.py``. ``via_cli``: ``policy-assistant app`` (which also loads the
    index and models at server start).
    """
    port = free_port()
    env = dict(os.environ)
    env.update(settings_env(settings))
    env.update(extra_env or {})
    if via_cli:
        cmd = [sys.executable, "-m", "policy_assistant", "app", "--port", str(port), "--no-build"]
    else:
        cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats",
               "false", "--server.fileWatcherType", "none"]

    def ready() -> bool:
        with urllib.request.urlopen(url + "_stcore/health", timeout=2) as r:
            return r.read().strip() == b"ok"

    url = f"http://127.0.0.1:{port}/"
    with running_process(cmd, ready, env=env, log_path=log_path, timeout=timeout, cwd=ROOT, what="streamlit"):
        yield url


def make_driver(profile_dir: str | None = None):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile_dir or tempfile.mkdtemp(prefix='pa-chromium-')}")
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)


class ChatPage:
    """The chat page in a browser: wait for it, ask questions, read the last answer."""

    def __init__(self, driver, timeout: float = 60):
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.wait = WebDriverWait(driver, timeout, poll_frequency=0.03)

    def open(self, url: str) -> float:
        """Load the page; returns seconds until the chat input is usable (models may still be loading)."""
        t0 = time.perf_counter()
        self.driver.get(url)
        self.wait.until(lambda d: self._input())
        return time.perf_counter() - t0

    def _input(self):
        from selenium.webdriver.common.by import By

        found = self.driver.find_elements(By.CSS_SELECTOR, CHAT_INPUT)
        return found[0] if found and found[0].is_enabled() else None

    def _finished_turns(self) -> int:
        # Each finished turn ends with a caption holding an empty <span class="pa-done">: cheap to count.
        return int(self.driver.execute_script("return document.getElementsByClassName('pa-done').length;"))

    def ask(self, question: str) -> float:
        """Type a question and press Enter; returns seconds from Enter until the answer is fully drawn."""
        from selenium.webdriver.common.keys import Keys

        before = self._finished_turns()
        box = self.wait.until(lambda d: self._input())
        box.send_keys(question)
        t0 = time.perf_counter()
        box.send_keys(Keys.ENTER)
        self.wait.until(lambda d: self._finished_turns() > before)
        return time.perf_counter() - t0

    def last_answer(self) -> dict:
        """Badge text, answer text and source titles of the last assistant message."""
        js = """
        const msgs = Array.from(document.querySelectorAll('[data-testid="stChatMessage"]'));
        const m = msgs[msgs.length - 1];
        return {text: m.innerText,
                sources: Array.from(m.querySelectorAll('.pa-src-title')).map(e => e.innerText),
                marks: m.querySelectorAll('.pa-passage mark').length};
        """
        return self.driver.execute_script(js)


def wait_for(driver, predicate, timeout: float = 60, what: str = ""):
    """Poll ``predicate(driver)`` until it returns something truthy (returned); fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate(driver)
        except Exception:  # noqa: BLE001 - the page is re-rendering; try again
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}")
