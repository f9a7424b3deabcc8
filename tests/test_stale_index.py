"""Issue 10 (reliability), stale index: after a document is added, changed or deleted, answers came from
the old index without a word until the next build. The front ends now notice (one stat() per file) and
say which documents changed and the fix (`policy-assistant index build`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_settings
from fault_helpers import TINY_LAW, write_tiny_corpus

from policy_assistant.index.freshness import FreshnessChecker

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "未取得排污许可证排放示例污染物罚多少?"

pytestmark = pytest.mark.slow  # each test builds a (tiny) index with the real model


@pytest.fixture
def tiny(tmp_path):
    """Settings for a freshly built index of two tiny documents in ``tmp_path/docs``."""
    from policy_assistant.index.build import build_index

    corpus = write_tiny_corpus(tmp_path / "docs")
    settings = make_settings(tmp_path, corpus_dirs=[corpus])
    build_index(settings)
    return settings


def _manifest(settings) -> dict:
    from policy_assistant.index.store import read_manifest

    return read_manifest(settings.index_dir)


def _checker(settings) -> FreshnessChecker:
    return FreshnessChecker(_manifest(settings), settings.corpus_dirs, min_interval=0)


def test_checker_names_added_changed_removed(tiny):
    """Issue 10: after a document is deleted (or added, or changed) the index is stale — and says so."""
    corpus = tiny.corpus_dirs[0]
    law = corpus / "示例保护法(2020-01-01).md"
    regulation = corpus / "示例湿地管理条例(2021-01-01).md"
    checker = _checker(tiny)
    first = checker.check()
    assert checker.supported and not first.stale and first.checked_files == 2

    os.utime(law, ns=(law.stat().st_atime_ns, law.stat().st_mtime_ns + 5_000_000_000))
    assert not checker.check().stale  # touched, same bytes: not a change

    regulation.unlink()
    (corpus / "新文件.md").write_text(TINY_LAW.replace("示例", "样例"), encoding="utf-8")
    law.write_text(TINY_LAW.replace("十万元", "二十万元"), encoding="utf-8")
    result = checker.check()
    assert result.removed == ("《示例湿地管理条例》",)
    assert result.added == ("新文件.md",)
    assert result.changed == ("《中华人民共和国示例保护法》",)
    line = result.message()
    assert "\n" not in line and "`policy-assistant index build`" in line and "1 removed (《示例湿地管理条例》)" in line


def test_cli_ask_warns_about_a_deleted_document(tiny):
    """Issue 10: after a document was deleted, `ask` cited it without a word until the next build."""
    (tiny.corpus_dirs[0] / "示例保护法(2020-01-01).md").unlink()
    env = {**os.environ, "POLICY_ASSISTANT_CORPUS_DIRS": str(tiny.corpus_dirs[0])}
    p = subprocess.run([sys.executable, "-m", "policy_assistant", "--index-dir", str(tiny.index_dir), "ask", QUESTION,
                        "--json"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    warnings = [x for x in p.stderr.splitlines() if x.startswith("warning: ")]
    assert len(warnings) == 1, p.stderr
    assert "《中华人民共和国示例保护法》" in warnings[0] and "policy-assistant index build" in warnings[0]


def test_app_says_the_index_is_stale_and_updates_it(tiny, monkeypatch):
    """Issue 10: the app should notice the corpus changed and say the index is stale."""
    from app_browser import settings_env
    from streamlit.testing.v1 import AppTest

    for k, v in settings_env(tiny).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("POLICY_ASSISTANT_APP_PASSWORD", "")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception and not [w for w in at.warning if "索引已过期" in w.value]
    (tiny.corpus_dirs[0] / "示例保护法(2020-01-01).md").unlink()
    import time

    time.sleep(2.1)  # the check's result is reused for two seconds
    at.chat_input[0].set_value(QUESTION).run()
    assert not at.exception, at.exception
    notices = [w.value for w in at.warning if "索引已过期" in w.value]
    assert len(notices) == 1 and "已删除 1 份：《中华人民共和国示例保护法》" in notices[0], notices
    assert "policy-assistant index build" in notices[0]
    at.button(key="refresh_index").click().run()
    assert not at.exception, at.exception
    assert not [w for w in at.warning if "索引已过期" in w.value]
    titles = {d["title"] for d in _manifest(tiny)["documents"].values()}
    assert titles == {"示例湿地管理条例"}
