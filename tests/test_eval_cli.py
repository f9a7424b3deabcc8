"""``policy-assistant eval`` on the real index (smoke subset only, to keep CI cheap)."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS

from policy_assistant.cli import main

pytestmark = pytest.mark.slow

# Conservative guards for the smoke subset: far below the targets, so only a real regression trips them.
GUARDS = ["recall@5=0.75", "mrr=0.6", "status=0.7", "facts=0.7"]


def _run(built_index, *args):
    return main(["--index-dir", str(built_index.index_dir), "--corpus", str(CORPUS), "eval", "--quiet",
                 "--reuse-index", *args])


def test_eval_default_smoke_json_with_guard(built_index, tmp_path, capsys):
    fail_under = [a for g in GUARDS for a in ("--fail-under", g)]
    rc = _run(built_index, "--config", "default", "--subset", "smoke", "--json",
              "--report-dir", str(tmp_path), *fail_under)
    out, err = capsys.readouterr()
    assert rc == 0, err
    data = json.loads(out)
    assert set(data) == {"configs", "default", "n"}
    assert data["default"] == "default" and list(data["configs"]) == ["default"]
    from policy_assistant.eval.gold import load_gold, smoke_items

    assert data["n"] == len(smoke_items(load_gold())) > 0
    m = data["configs"]["default"]
    for key in ("recall@1", "recall@3", "recall@5", "recall@10", "mrr", "facts", "status",
                "citation_precision", "citation_recall", "correct", "p50_ms", "p95_ms"):
        assert key in m
    assert 0 <= m["recall@1"] <= m["recall@5"] <= m["recall@10"] <= 1
    assert m["p50_ms"] <= m["p95_ms"]
    # reports: markdown with the table and failures, machine-readable JSON, charts
    names = {p.name for p in tmp_path.iterdir()}
    md = next(p for p in tmp_path.iterdir() if p.name.endswith("-default.md"))
    text = md.read_text(encoding="utf-8")
    assert "| config |" in text and "## Failures" in text and "confusion" in text
    assert any(n.endswith("-default.json") for n in names)
    assert any(n.endswith("-comparison.png") for n in names)
    report = json.loads(next(p for p in tmp_path.iterdir() if p.name.endswith("-default.json")).read_text())
    assert len(report["items"]) == data["n"] and "categories" in report


def test_eval_fail_under_names_the_metric(built_index, tmp_path, capsys):
    rc = _run(built_index, "--config", "default", "--subset", "smoke", "--limit", "2", "--no-report",
              "--fail-under", "status=1.01")
    out, err = capsys.readouterr()
    assert rc == 1
    assert "status" in err and "--fail-under status=1.01" in err
    assert "default" in out  # the table is still printed


def test_eval_bad_arguments(built_index, capsys):
    assert _run(built_index, "--config", "nonsense", "--no-report") == 2
    assert "unknown eval configuration" in capsys.readouterr().err
    assert _run(built_index, "--fail-under", "recall@5", "--no-report") == 2
    assert "--fail-under" in capsys.readouterr().err
