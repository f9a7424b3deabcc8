"""Progress of one document change, and the background runner that runs one change at a time per process.

``UpdateProgress`` turns the builder's ``progress(stage, done, total)`` into a snapshot a page can poll
(chunks embedded / total, ETA); ``UpdateRunner`` runs a change in a thread so the page that started it
(and every other session) stays responsive. Used by ``index/manage.py`` and the 文件管理 page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from policy_assistant.core.errors import DocumentsBusyError, PolicyAssistantError

# ---- progress ------------------------------------------------------------------------------------


@dataclass
class UpdateProgress:
    """The builder's ``progress(stage, done, total)`` as a snapshot a page can poll: chunks embedded /
    total and an ETA from the embedding rate so far. Thread-safe."""

    stage: str = "prepare"
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)
    stage_started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, stage: str, done: int = 0, total: int = 0) -> None:
        with self._lock:
            if stage != self.stage:
                self.stage, self.stage_started = stage, time.monotonic()
            self.done, self.total = int(done), int(total)

    def snapshot(self) -> dict:
        """``stage, done, total, fraction, elapsed_s, eta_s`` (eta ``None`` until there is a rate)."""
        with self._lock:
            now = time.monotonic()
            frac = self.done / self.total if self.total else 0.0
            eta = None
            if self.stage == "embed" and 0 < self.done < self.total:
                rate = self.done / max(now - self.stage_started, 1e-6)
                eta = (self.total - self.done) / rate
            elif self.stage == "embed" and self.total and self.done >= self.total:
                eta = 0.0
            return {"stage": self.stage, "done": self.done, "total": self.total, "fraction": min(1.0, frac),
                    "elapsed_s": now - self.started, "eta_s": eta}


# ---- one background update per process ------------------------------------------------------------


@dataclass
class UpdateJob:
    """A change running in a background thread (the page polls it)."""

    label: str
    who: str
    progress: UpdateProgress = field(default_factory=UpdateProgress)
    started_at: str = field(default_factory=lambda: time.strftime("%H:%M:%S"))
    result: object | None = None
    error: PolicyAssistantError | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return not self.done.is_set()


class UpdateRunner:
    """Runs at most one change at a time in this process, in a thread, so the page that started it (and
    every other session) stays responsive; ``after`` runs when a change succeeded (e.g. load the new
    index into the app's cache)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.job: UpdateJob | None = None

    def start(self, label: str, who: str, work: Callable[[UpdateProgress], object],
              after: Callable[[], None] | None = None) -> UpdateJob:
        """Start ``work(progress)``; raises :class:`DocumentsBusyError` while another change runs."""
        with self._lock:
            if self.job is not None and self.job.running:
                raise DocumentsBusyError(f"{self.job.who} 正在{self.job.label}（{self.job.started_at} 开始）",
                                         "请等这次更新完成后再操作")
            job = self.job = UpdateJob(label, who)

        def run():
            try:
                job.result = work(job.progress)
                if after is not None:
                    after()
            except PolicyAssistantError as exc:
                job.error = exc
            except Exception as exc:  # noqa: BLE001 - reported on the page, details in the log
                import logging

                logging.getLogger("policy_assistant.manage").exception("document update failed")
                job.error = PolicyAssistantError(f"更新时出现内部错误（{type(exc).__name__}: {exc}）",
                                                 "查看服务器日志；原来的索引仍在使用，可以点“更新索引”重试")
            finally:
                job.done.set()

        threading.Thread(target=run, name=f"update-{label}", daemon=True).start()
        return job
