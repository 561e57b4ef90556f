"""Reviewers' decisions as labelled data: how well do the model's thresholds serve the national unit?

Each pair's latest human label counts (automatic merges are the model's own answer, not evidence about it;
"undone" withdraws a merge label). Every labelled pair was queued, so its probability is at least the review
threshold: recall here is among reviewed pairs only, never over the whole registry.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from registry.matching.model import REVIEW_THRESHOLD, SAME_THRESHOLD
from registry.services.context import Registry
from registry.services.review.decisions import AUTO
from registry.store.tables.review import ReviewLabel


def latest_labels(reg: Registry) -> list[tuple[float, bool]]:
    """(probability at decision, same child?) for each pair with a standing human decision."""
    with reg.db.sessions() as s:
        rows = s.scalars(select(ReviewLabel).where(ReviewLabel.decided_by != AUTO)
                         .order_by(ReviewLabel.decided_at, ReviewLabel.label_id)).all()
    latest = {r.pair_id: r for r in rows}
    return [(r.probability, r.decision == "merge") for r in latest.values() if r.decision != "undone"]


def _at(labels: list[tuple[float, bool]], threshold: float) -> dict[str, Any]:
    tp = sum(1 for p, same in labels if same and p >= threshold)
    fp = sum(1 for p, same in labels if not same and p >= threshold)
    fn = sum(1 for p, same in labels if same and p < threshold)
    return {"threshold": threshold, "true_positives": tp, "false_positives": fp, "false_negatives": fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None}


def evaluate_labels(reg: Registry) -> dict[str, Any]:
    """Precision and recall among reviewed pairs at the same-child threshold and at the review threshold."""
    labels = latest_labels(reg)
    return {"labels": len(labels), "same_child": sum(1 for _, s in labels if s),
            "not_duplicate": sum(1 for _, s in labels if not s),
            "match": _at(labels, SAME_THRESHOLD), "review": _at(labels, REVIEW_THRESHOLD)}
