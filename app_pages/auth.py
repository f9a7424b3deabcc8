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

    def wait_s(self, session: MutableMapping, prefix: str = "login") -> float:
        """Seconds before an attempt of ``session`` will be checked (0 = now)."""
        now = self.clock()
        wait = float(session.get(f"{prefix}_next_try", 0.0)) - now
        with self._lock:
            while self._failures and self._failures[0] <= now - WINDOW_S:
                self._failures.popleft()
            if len(self._failures) >= self.per_minute:
                wait = max(wait, self._failures[0] + WINDOW_S - now)
        return max(0.0, wait)

    def attempt(self, session: MutableMapping, entered: str, expected: str, prefix: str = "login") -> Attempt:
        """Check one attempt of ``session`` (its state holds the delay), unless it has to wait.

        ``prefix`` names the session-state keys of the delay, so the reader and the administrator
        passwords keep their own per-session delay (the per-process cap counts both)."""
        failures_key, next_key = f"{prefix}_failures", f"{prefix}_next_try"
        wait = self.wait_s(session, prefix)
        if wait > 0:
            return Attempt(accepted=False, checked=False, wait_s=wait)
        if check_password(entered, expected):
            session[failures_key] = 0
            session[next_key] = 0.0
            return Attempt(accepted=True, checked=True, wait_s=0.0)
        now = self.clock()
        failures = int(session.get(failures_key, 0)) + 1
        session[failures_key] = failures
        session[next_key] = now + min(self.max_s, self.base_s * 2 ** (failures - 1))
        with self._lock:
            self._failures.append(now)
        return Attempt(accepted=False, checked=True, wait_s=self.wait_s(session, prefix))


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
    st.title(f"{APP_AVATAR} {APP_TITLE}")
    with st.form("login"):
        entered = st.text_input("访问密码", type="password")
        submitted = st.form_submit_button("进入")
    if submitted and _checked(throttle, entered, settings.app_password, "login"):
        st.session_state["authenticated"] = True
        st.rerun()
    return False


ADMIN_KEY = "admin_user"  # session-state key: the administrator's name once the admin password was entered


def admin_gate(settings, throttle: LoginThrottle | None = None) -> str | None:
    """The administrator's name when this session entered ``admin_password`` (separate from the reader
    password; same throttling, its own per-session delay); otherwise draws the form and returns None."""
    if not settings.admin_password:
        return None
    if st.session_state.get(ADMIN_KEY):
        return st.session_state[ADMIN_KEY]
    st.info("文件管理需要管理员密码。姓名会记录在操作日志中。", icon=":material/admin_panel_settings:")
    with st.form("admin_login"):
        name = st.text_input("姓名", max_chars=60, placeholder="例如：张三（环保局办公室）")
        entered = st.text_input("管理员密码", type="password")
        submitted = st.form_submit_button("登录")
    if submitted:
        if not name.strip():
            st.error("请填写姓名（记录在操作日志中）。")
        elif _checked(throttle, entered, settings.admin_password, "admin"):
            st.session_state[ADMIN_KEY] = name.strip()
            st.rerun()
    return None


def _checked(throttle: LoginThrottle | None, entered: str, expected: str, prefix: str) -> bool:
    """One throttled attempt; draws the refusal (wrong, or not checked because of the delay)."""
    result = (throttle or login_throttle()).attempt(st.session_state, entered, expected, prefix)
    if result.accepted:
        return True
    seconds = math.ceil(result.wait_s)
    if result.checked:
        st.error(f"密码不正确。请 {seconds} 秒后再试。")
    else:
        st.warning(f"尝试过于频繁，这次输入没有被检查。请 {seconds} 秒后再试。")
    return False
