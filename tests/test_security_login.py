"""Issue 10, security: "Password: no throttling (20 wrong guesses in 22 s)".

Each wrong password delays the session's next checked attempt exponentially (1, 2, 4 … s, capped), and
the process checks a limited number of wrong passwords per minute over all sessions, so new sessions do
not bypass the delay. The delay is enforced by the server: an early attempt is not checked at all, even
when it is the right password. Driven with ``AppTest``: the real ``app.py`` with the real clock, and the
real gate with an injected clock (``password_gate(settings, throttle=LoginThrottle(clock=…))``).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "s3cret-口令"
TIMEOUT = 60


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def password_env(tmp_path, monkeypatch):
    """A configured password; no index and an empty corpus, so the page behind the gate fails fast."""
    empty = tmp_path / "empty_corpus"
    empty.mkdir()
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("POLICY_ASSISTANT_APP_PASSWORD", PASSWORD)
    monkeypatch.setenv("POLICY_ASSISTANT_INDEX_DIR", str(tmp_path / "no_index"))
    monkeypatch.setenv("POLICY_ASSISTANT_CORPUS_DIRS", str(empty))
    monkeypatch.setenv("POLICY_ASSISTANT_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))


def _login(at: AppTest, password: str) -> AppTest:
    at.text_input[0].input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def _gate_script(throttle):
    import streamlit as st

    from policy_assistant.app_pages.auth import password_gate
    from policy_assistant.core.config import load_settings

    if password_gate(load_settings(), throttle=throttle):
        st.markdown("inside")


def _session(throttle) -> AppTest:
    return AppTest.from_function(_gate_script, args=(throttle,), default_timeout=TIMEOUT).run()


def _inside(at: AppTest) -> bool:
    return any(m.value == "inside" for m in at.markdown)


def test_app_does_not_check_a_password_right_after_a_wrong_one(password_env):
    """The real app.py: a wrong guess, then the right password at once is refused unchecked; after the
    delay the right password gets in (before the fix every guess was checked immediately)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    _login(at, "wrong")
    assert at.error and "密码不正确" in at.error[0].value and "authenticated" not in at.session_state
    _login(at, PASSWORD)
    assert "authenticated" not in at.session_state, "the right password was checked during the delay"
    assert at.warning and "没有被检查" in at.warning[0].value
    time.sleep(1.05)
    _login(at, PASSWORD)
    assert at.session_state["authenticated"] is True


def test_each_wrong_password_doubles_the_session_delay(password_env):
    from policy_assistant.app_pages.auth import LoginThrottle

    clock = Clock()
    throttle = LoginThrottle(clock=clock, per_minute=1000)
    at = _session(throttle)
    waits = []
    for _ in range(8):
        _login(at, "wrong")
        assert at.error and "密码不正确" in at.error[0].value
        waits.append(throttle.wait_s(at.session_state))
        clock.now += waits[-1] - 0.5
        _login(at, PASSWORD)  # half a second early: refused without being checked
        assert not _inside(at) and at.warning and "没有被检查" in at.warning[0].value
        clock.now += 0.5
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    _login(at, PASSWORD)
    assert _inside(at)


def test_new_sessions_do_not_bypass_the_process_cap(password_env):
    from policy_assistant.app_pages.auth import FAILURES_PER_MINUTE, WINDOW_S, LoginThrottle

    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(FAILURES_PER_MINUTE):  # one wrong guess per fresh session
        _login(_session(throttle), "wrong")
        clock.now += 1.0
    fresh = _login(_session(throttle), PASSWORD)
    assert not _inside(fresh) and "没有被检查" in fresh.warning[0].value
    clock.now += WINDOW_S - FAILURES_PER_MINUTE + 0.01  # the oldest wrong guess leaves the minute
    assert _inside(_login(fresh, PASSWORD))


def test_throttle_counts_only_checked_attempts():
    from policy_assistant.app_pages.auth import LoginThrottle

    clock = Clock()
    throttle = LoginThrottle(clock=clock, per_minute=3)
    session: dict = {}
    assert throttle.attempt(session, "x", PASSWORD).checked
    early = throttle.attempt(session, PASSWORD, PASSWORD)
    assert (early.accepted, early.checked) == (False, False) and early.wait_s == pytest.approx(1.0)
    assert len(throttle._failures) == 1 and session["login_failures"] == 1
    clock.now += 1.0
    ok = throttle.attempt(session, PASSWORD, PASSWORD)
    assert ok.accepted and session["login_failures"] == 0
