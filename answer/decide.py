"""Stage 4 — decide: score every unit with the unit model, then the part's status with the status model.

The status is ``answered`` when P(answered) reaches the operating point stored with the model (picked
from a precision–recall curve on held-out data by ``policy-assistant eval calibrate``); otherwise the
more probable of ``not_specified`` (the documents discuss the subject but do not state the detail) and
``not_found``.
"""

from __future__ import annotations

from policy_assistant.answer.evidence import aggregate
from policy_assistant.answer.models import Models
from policy_assistant.answer.types import Decision, PartEvidence, Question


def score_units(ev: PartEvidence, models: Models) -> None:
    """Set ``Unit.score`` for every unit and sort them best first."""
    if not ev.units:
        return
    probs = models.unit.predict_proba([u.features for u in ev.units])[:, 1]
    for u, p in zip(ev.units, probs, strict=True):
        u.score = float(p)
    ev.units.sort(key=lambda u: -u.score)


def decide(ev: PartEvidence, question: Question, models: Models) -> Decision:
    """The calibrated status of one part (its evidence must be scored)."""
    ev.features = aggregate(ev, question)
    classes = models.status.classes
    p = models.status.predict_proba([ev.features])[0]
    probs = {c: float(v) for c, v in zip(classes, p, strict=True)}
    if not ev.units:
        return Decision("not_found", 1.0, {"answered": 0.0, "not_specified": 0.0, "not_found": 1.0})
    if probs.get("answered", 0.0) >= models.answered_threshold:
        status = "answered"
    else:
        status = "not_specified" if probs.get("not_specified", 0.0) >= probs.get("not_found", 0.0) else "not_found"
    return Decision(status, probs.get(status, 0.0), probs)
