"""Real-time lookup: "is this child already known?" for one record, in milliseconds.

Candidates come from the linkage index's blocking keys (indexed SQL lookups); each is scored in Python with
the trained model's parameters (LinkageModel.score), which gives the same probability as Splink's batch
predict for the same pair (tested) without Splink's 100-200 ms per-call overhead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from registry.matching.index import LinkageIndex
from registry.matching.model import REVIEW_THRESHOLD, LinkageModel, PairScore
from registry.matching.record import RecordFields


class ModelNotTrained(RuntimeError):
    """No linkage model yet: run `registry dedupe` once (it trains one) before lookups can be answered."""


@dataclass(frozen=True)
class Match:
    child_id: str
    probability: float
    record_id: str  # the best-scoring record of that child (internal: never shown to agencies)
    score: PairScore  # internal: for explanations and the review queue, never returned to agencies


def find_matches(session: Session, index: LinkageIndex, model: LinkageModel | None, identity: RecordFields, *,
                 excluded_children: set[str], threshold: float = REVIEW_THRESHOLD,
                 exclude_records: set[str] | None = None) -> list[Match]:
    """Registered children that may be this identity, best first. The identity is not stored. Which agencies
    hold them is the caller's to read, with the rest of what it decides on (a lookup's disclosure checks).

    `excluded_children` are never matched (consent to deduplication withdrawn): the caller decides who they are.
    """
    if model is None:
        raise ModelNotTrained("the matching model has not been trained yet: run `registry dedupe`")
    encoded = index.encoder.encode("query", "", identity)
    query = encoded.as_dict()  # lists as tuples: the form the model scores (stored rows via from_entry)
    best: dict[str, tuple[float, str, PairScore]] = {}
    candidates = [cand for cand in index.candidates(session, encoded)
                  if not (exclude_records and cand["record_id"] in exclude_records)
                  and not (excluded_children and cand["child_id"] in excluded_children)]
    for pos, score in model.score_block(query, candidates, threshold):
        cand = candidates[pos]
        prev = best.get(cand["child_id"])
        if prev is None or score.probability > prev[0]:
            best[cand["child_id"]] = (score.probability, cand["record_id"], score)
    if not best:
        return []
    matches = [Match(c, p, r, sc) for c, (p, r, sc) in best.items()]
    return sorted(matches, key=lambda m: -m.probability)
