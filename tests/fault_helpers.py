"""Test helpers: real file-system faults (read-only files and folders, also when the tests run as root) and a
tiny two-document corpus — the same ones the fault matrix uses (``policy_assistant.eval.faults``).
Not a test module itself.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from policy_assistant.eval.faults import (
    TINY_LAW,
    TINY_REGULATION,
    FaultUnsupported,
    made_read_only,
    write_tiny_corpus,
)

__all__ = ["TINY_LAW", "TINY_REGULATION", "read_only", "write_tiny_corpus"]


@contextmanager
def read_only(path: Path):
    """``path`` (a file or a folder) cannot be written inside the block; restored afterwards (skips the test
    when this machine cannot do that)."""
    try:
        cm = made_read_only(path)
        cm.__enter__()
    except FaultUnsupported as exc:
        pytest.skip(str(exc))
    try:
        yield Path(path)
    finally:
        cm.__exit__(None, None, None)
