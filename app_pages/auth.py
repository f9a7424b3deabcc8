"""The access password: constant-time check, and a server-side brake on guessing it.

Every wrong password makes its session wait before the next attempt is even checked — 1, 2, 4 … s,
capped at 60 s — and the server process checks at most ``FAILURES_PER_MINUTE`` wrong passwords per
minute in all sessions together, so opening new sessions (a reload, a script) does not get around the
per-session delay. An attempt made while waiting is refused without comparing it: the delay lives in
the server (the session state and one process-wide :class:`LoginThrottle`), not in the browser.
The cost: during a guessing attack a legitimate user may have to wait up to a minute too.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections import deque
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field

import streamlit as st

from policy_assistant.app_pages.common import APP_AVATAR, APP_TITLE

BASE_DELAY_S = 1.0
MAX_DELAY_S = 60.0
FAILURES_PER_MINUTE = 10  # wrong passwords the whole process checks per rolling minute
WINDOW_S = 60.0
FAILURES_KEY, NEXT_TRY_KEY = "login_failures", "login_next_try"  # session-state keys (no widget uses them)


def check_password(entered: str, expected: str) -> bool:
    """Constant-time comparison of the access password."""
    return hmac.compare_digest(entered.encode("utf-8"), expected.encode("utf-8"))


@dataclass
class Attempt:
    """What happened to one login attempt."""

    accepted: bool
    checked: bool  # False: refused unchecked because the session or the process must still wait
    wait_s: float  # seconds before the next attempt will be checked


@dataclass
class LoginThrottle:
    """Per-session exponential delay plus a per-process cap on wrong passwords per minute.

    ``clock`` (monotonic seconds) can be injected, e.g. by tests.
    """

    clock: Callable[[], float] = time.monotonic
    base_s: float = BASE_DELAY_S
    max_s: float = MAX_DELAY_S
    per_minute: int = FAILURES_PER_MINUTE
    _failures: deque[float] = field(default_factory=deque, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wait_s(self, session: MutableMapping) -> float:
        """Seconds before an attempt of ``session`` will be checked (0 = now)."""
        now = self.clock()
        wait = float(session.get(NEXT_TRY_KEY, 0.0)) - now
        with self._lock:
            while self._failures and self._failures[0] <= now - WINDOW_S:
                self._failures.popleft()
            if len(self._failures) >= self.per_minute:
                wait = max(wait, self._failures[0] + WINDOW_S - now)
        return max(0.0, wait)

    def attempt(self, session: MutableMapping, entered: str, expected: str) -> Attempt:
        """Check one attempt of ``session`` (its state holds the delay), unless it has to wait."""
        wait = self.wait_s(session)
        if wait > 0:
            return Attempt(accepted=False, checked=False, wait_s=wait)
        if check_password(entered, expected):
            session[FAILURES_KEY] = 0
            session[NEXT_TRY_KEY] = 0.0
            return Attempt(accepted=True, checked=True, wait_s=0.0)
        now = self.clock()
        failures = int(session.get(FAILURES_KEY, 0)) + 1
        session[FAILURES_KEY] = failures
        session[NEXT_TRY_KEY] = now + min(self.max_s, self.base_s * 2 ** (failures - 1))
        with self._lock:
            self._failures.append(now)
        return Attempt(accepted=False, checked=True, wait_s=self.wait_s(session))


@st.cache_resource(show_spinner=False)
def login_throttle() -> LoginThrottle:
    """The one throttle of this server process (shared by all sessions)."""
    return LoginThrottle()


def password_gate(settings, throttle: LoginThrottle | None = None) -> bool:
    """True when no password is configured or the session has entered it; otherwise draws the login form.

    ``throttle`` defaults to the process-wide one.
    """
    if not settings.app_password or st.session_state.get("authenticated"):
        return True
    throttle = throttle or login_throttle()
    st.title(f"{APP_AVATAR} {APP_TITLE}")
    with st.form("login"):
        entered = st.text_input("访问密码", type="password")
        submitted = st.form_submit_button("进入")
    if submitted:
        result = throttle.attempt(st.session_state, entered, settings.app_password)
        if result.accepted:
            st.session_state["authenticated"] = True
            st.rerun()
        seconds = math.ceil(result.wait_s)
        if result.checked:
            st.error(f"密码不正确。请 {seconds} 秒后再试。")
        else:
            st.warning(f"尝试过于频繁，这次输入没有被检查。请 {seconds} 秒后再试。")
    return False
