"""The two small trained models of the answer path, stored as plain JSON (never pickled).

- the **unit model** — P(this sentence states the answer to this part), a logistic regression over
  :data:`~policy_assistant.answer.evidence.UNIT_FEATURES` (plus a few products of them);
- the **status model** — P(answered / not_specified / not_found), a multinomial logistic regression
  over :data:`~policy_assistant.answer.evidence.STATUS_FEATURES`.

Each file carries its feature list, the standardisation (mean, scale), the weights, the operating
point chosen on held-out data, the sha256 of its training data and the vocabulary it was trained with.
``policy-assistant eval calibrate`` writes them; :func:`load_models` checks them on load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from policy_assistant.core.errors import ConfigError

MODEL_DIR = Path(__file__).resolve().parent / "models"
UNIT_MODEL = "unit_model.json"
STATUS_MODEL = "status_model.json"
FORMAT = 1
# Products of features the unit model sees besides the features themselves: a sentence that states
# the asked kind of answer AND is about the question is what an answer looks like.
INTERACTIONS = (("u_type", "u_cov"), ("u_type", "u_dense"), ("u_type", "p_cov"), ("u_cov", "u_dense"),
                ("title", "u_cov"))
_FIX = "retrain with `policy-assistant eval calibrate` or restore answer/models/*.json from git"


def expand(features: dict[str, float], names: tuple[str, ...], interactions=()) -> np.ndarray:
    """The model's input row: the named features, then the products of each interaction pair."""
    row = [float(features.get(n, 0.0)) for n in names]
    row += [float(features.get(a, 0.0)) * float(features.get(b, 0.0)) for a, b in interactions]
    return np.asarray(row, dtype=np.float64)


@dataclass
class LinearModel:
    """Standardised inputs → logits → sigmoid (two classes) or softmax (more)."""

    features: tuple[str, ...]
    classes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray          # (n_classes or 1, n_inputs)
    intercept: np.ndarray     # (n_classes or 1,)
    interactions: tuple[tuple[str, str], ...] = ()
    meta: dict = field(default_factory=dict)

    def _logits(self, X: np.ndarray) -> np.ndarray:
        Z = (X - self.mean) / self.scale
        return Z @ self.coef.T + self.intercept

    def predict_proba(self, rows: list[dict[str, float]]) -> np.ndarray:
        """(n, n_classes) probabilities; for two classes column 1 is the positive class."""
        if not rows:
            return np.zeros((0, len(self.classes)))
        X = np.stack([expand(r, self.features, self.interactions) for r in rows])
        L = self._logits(X)
        if L.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-L[:, 0]))
            return np.stack([1 - p, p], axis=1)
        L = L - L.max(axis=1, keepdims=True)
        E = np.exp(L)
        return E / E.sum(axis=1, keepdims=True)

    def contributions(self, row: dict[str, float]) -> dict[str, float]:
        """Per-input contribution to the logit of the last class (for ``ask --explain``)."""
        x = (expand(row, self.features, self.interactions) - self.mean) / self.scale
        names = [*self.features, *(f"{a}*{b}" for a, b in self.interactions)]
        w = self.coef[-1]
        return {n: round(float(v), 4) for n, v in zip(names, x * w, strict=True)}

    def to_dict(self) -> dict:
        return {"format": FORMAT, "features": list(self.features), "classes": list(self.classes),
                "interactions": [list(p) for p in self.interactions],
                "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept.tolist(), "meta": self.meta}

    @classmethod
    def from_dict(cls, d: dict, source: str = "") -> LinearModel:
        try:
            if d.get("format") != FORMAT:
                raise ValueError(f"format {d.get('format')!r}, expected {FORMAT}")
            m = cls(features=tuple(d["features"]), classes=tuple(d["classes"]),
                    mean=np.asarray(d["mean"], dtype=np.float64), scale=np.asarray(d["scale"], dtype=np.float64),
                    coef=np.asarray(d["coef"], dtype=np.float64), intercept=np.asarray(d["intercept"], dtype=np.float64),
                    interactions=tuple(tuple(p) for p in d.get("interactions", [])), meta=dict(d.get("meta", {})))
            n_in = len(m.features) + len(m.interactions)
            if m.coef.ndim != 2 or m.coef.shape[1] != n_in or m.mean.shape != (n_in,) or m.scale.shape != (n_in,):
                raise ValueError("weights do not match the feature list")
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"model file {source} is invalid: {exc}", _FIX) from exc
        return m

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)


@dataclass
class Models:
    unit: LinearModel
    status: LinearModel

    @property
    def answered_threshold(self) -> float:
        """P(answered) at or above which a part is answered (the operating point picked on held-out data)."""
        return float(self.status.meta.get("answered_threshold", 0.5))


def load_models(folder: Path | None = None, expected_features: tuple | None = None) -> Models:
    """Read both model files (ConfigError naming the fix when missing or damaged)."""
    folder = Path(folder or MODEL_DIR)
    out = []
    for name in (UNIT_MODEL, STATUS_MODEL):
        path = folder / name
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"model file {path} is missing", _FIX) from exc
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read model file {path}: {exc}", _FIX) from exc
        out.append(LinearModel.from_dict(d, str(path)))
    return Models(unit=out[0], status=out[1])
