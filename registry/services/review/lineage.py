"""A child's lineage: every merge (and undo) that touched it, and where an old pseudonym points now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from registry.consent import policy
from registry.matching.model import decision_band
from registry.services.access import authorize
from registry.services.actor import Actor
from registry.services.context import Registry
from registry.services.review.queue import REVIEW_PURPOSE
from registry.store.models import Child, resolve_child
from registry.store.pseudonym import parse_pseudonym
from registry.store.tables.review import Merge, MergeMove


def _band_words(probability: float | None) -> str | None:
    return None if probability is None else {"same": "same child", "possible": "possible",
                                              "different": "different"}[decision_band(probability)]


@dataclass
class Lineage:
    child_id: str  # as asked
    current: str  # the child it resolves to now
    redirected: bool
    children: list[dict[str, Any]]  # every pseudonym in the lineage: status, merged_into
    merges: list[dict[str, Any]]  # oldest first, undone ones included

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def lineage(reg: Registry, actor: Actor, child_id: str, purpose: str = REVIEW_PURPOSE) -> Lineage:
    """Read under the policy like the child itself (READ with the stated purpose)."""
    with reg.db.unit_of_work() as s:
        current = resolve_child(s, child_id).child_id
        authorize(reg, s, actor, policy.READ, purpose=purpose, child_id=current)
        asked = parse_pseudonym(child_id)
        ids, merges = {asked, current}, {}
        while True:  # the closure over merges touching any pseudonym seen so far
            found = {m.merge_id: m for m in s.scalars(select(Merge).where(
                or_(Merge.survivor.in_(ids), Merge.absorbed.in_(ids))))}
            new = {c for m in found.values() for c in (m.survivor, m.absorbed)} - ids
            merges.update(found)
            if not new:
                break
            ids |= new
        children = [{"child_id": c.child_id, "status": c.status, "merged_into": c.merged_into}
                    for c in s.scalars(select(Child).where(Child.child_id.in_(ids)).order_by(Child.created_at))]
        out = []
        for m in sorted(merges.values(), key=lambda m: (m.decided_at, m.merge_id)):
            moved = len(list(s.scalars(select(MergeMove.record_id).where(MergeMove.merge_id == m.merge_id))))
            out.append({"merge_id": m.merge_id, "survivor": m.survivor, "absorbed": m.absorbed,
                        "pair_id": m.pair_id, "records_moved": moved, "decided_by": m.decided_by,
                        "automatic": m.automatic, "run_id": m.run_id,
                        # The band, never the score: an automatic merge says "same child".
                        "band": _band_words(m.probability),
                        "decided_at": m.decided_at.isoformat(),
                        "undone_at": m.undone_at.isoformat() if m.undone_at else None})
        return Lineage(asked, current, asked != current, children, out)
