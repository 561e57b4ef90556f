"""A pair's score in words a reviewer understands: one line per field, its weight, for or against.

The pair is re-scored from the two records' stored linkage rows with the trained model, so the explanation
is exactly the arithmetic behind the probability (match weights are log2 Bayes factors; they add up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from registry.matching.comparisons import NO_CORRECTION
from registry.matching.index import from_entry
from registry.store.tables.matching import LinkageEntry


@dataclass(frozen=True)
class FieldExplanation:
    field: str  # the comparison's name (given, family, dob, ...)
    title: str  # what a reviewer calls it: "given name"
    finding: str  # the comparison level: "same name", "day and month swapped"
    weight: float
    words: str  # "given name: same name, +9.5 (for)"

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "title": self.title, "finding": self.finding, "weight": round(self.weight, 2),
                "words": self.words}


@dataclass(frozen=True)
class Explanation:
    probability: float
    match_weight: float
    fields: tuple[FieldExplanation, ...]
    rule: str | None = None  # a registry rule that held the probability down, in words

    def as_dict(self) -> dict[str, Any]:
        return {"probability": self.probability, "match_weight": round(self.match_weight, 2),
                "fields": [f.as_dict() for f in self.fields], "rule": self.rule}


RULES = {
    "possible twins": "possible twins or siblings: the given names differ while the family and the date of birth "
                      "agree, so this pair is never merged automatically",
}


def _finding(label: str, tf_adjustment: float) -> str:
    """The level, and for an agreeing name how common it is (a common name is weaker evidence)."""
    if tf_adjustment >= 1.0:
        return f"{label}, a rare name"
    if tf_adjustment <= -1.0:
        return f"{label}, a common name"
    return label


def _short_title(title: str) -> str:
    return title.split(" (")[0]  # "family (father, grandfather, ...)" -> "family"


def words(title: str, finding: str, weight: float) -> str:
    if abs(weight) < 0.05:
        side = "no evidence either way"
    else:
        side = "for" if weight > 0 else "against"
    return f"{title}: {finding}, {weight:+.1f} ({side})"


def explain_rows(model: Any, left: dict, right: dict) -> Explanation:
    """Score two linkage rows (as `from_entry` gives them) and say why, field by field, strongest first."""
    score = model.score(left, right)
    fields = [FieldExplanation(f.comparison, _short_title(f.title), _finding(f.label, f.tf_adjustment), f.weight,
                               words(_short_title(f.title), _finding(f.label, f.tf_adjustment), f.weight))
              for f in score.fields if f.label != NO_CORRECTION]  # a correction that does not apply
    fields.sort(key=lambda f: -abs(f.weight))
    rule = RULES.get(score.capped_by or "", score.capped_by)
    return Explanation(score.probability, score.match_weight, tuple(fields), rule)


def explain_records(model: Any, session: Session, record_a: str, record_b: str) -> Explanation | None:
    """None when there is no model yet or a record has no linkage row (erased)."""
    if model is None:
        return None
    a, b = session.get(LinkageEntry, record_a), session.get(LinkageEntry, record_b)
    if a is None or b is None:
        return None
    return explain_rows(model, from_entry(a), from_entry(b))
