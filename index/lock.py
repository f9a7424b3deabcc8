"""A build lock beside the index folder: a second build at the same time refuses with a clear message.

The lock is an ``fcntl.flock`` on ``<index_dir>/.build.lock`` (inside the folder the builder owns, so
nothing is written beside it); the kernel releases it when the holder exits, even on a crash, so a
left-over lock file never blocks a later build.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from policy_assistant.core.errors import IndexFolderError, IndexLockedError, os_error_fix

LOCK_NAME = ".build.lock"


def lock_path_for(index_dir: Path) -> Path:
    return Path(index_dir) / LOCK_NAME


class BuildLock:
    """``with BuildLock(index_dir): ...`` — raises :class:`IndexLockedError` if another build holds it.

    ``wait`` seconds > 0 retries until the lock is free or the time is up.
    """

    def __init__(self, index_dir: Path, wait: float = 0.0, *, path: Path | None = None, owner: str = ""):
        self.path = Path(path) if path is not None else lock_path_for(index_dir)
        self.wait = wait
        self.owner = owner  # who holds it (recorded for the message a second holder gets)
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise IndexFolderError(f"cannot write in the index folder {self.path.parent}: {exc.strerror}; "
                                   "the current index is unchanged",
                                   os_error_fix(exc, f"the folder {self.path.parent}")) from exc
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self._holder(fd)
                    os.close(fd)
                    raise IndexLockedError(
                        f"another index build is running ({holder}); lock file {self.path}",
                        "wait for it to finish and try again (the lock is released automatically when "
                        "that build exits)") from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "owner": self.owner}
        os.write(fd, json.dumps(info).encode())
        self._fd = fd

    def holder(self) -> str:
        """Who holds the lock (owner, pid, host, since), read from the lock file."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return "holder unknown"
        try:
            return self._holder(fd)
        finally:
            os.close(fd)

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
            who = f"{info['owner']}, " if info.get("owner") else ""
            return f"{who}pid {info.get('pid')} on {info.get('host')} since {info.get('since')}"
        except (OSError, ValueError):
            return "holder unknown"

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> BuildLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
