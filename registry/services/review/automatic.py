"""A batch run's decisions: every scored pair ends as the same child, possible, or different (BRIEF section 7).

- **Same child** (probability >= `model.SAME_THRESHOLD`): merged automatically, by the system, through the merge
  a reviewer makes (`decisions.merge_open_pair`): recorded as automatic in the lineage with the run's id,
  audited (one event per merge), undone like any merge. Off (REGISTRY_AUTO_MERGE=false), the pairs stay in the
  queue, ranked first.
- **Possible**: the review queue, ranked by how much a decision is worth (`queue.pair_priority`).
- **Different**: nothing (the batch engine keeps only pairs at or above the possible band).

Must stay apart: an automatic merge never joins two children when that would put, inside one child, two
records a person said are different ("not a duplicate", or an automatic merge undone), nor two records the
twin rule keeps apart ("possible twins": every pair of records across the two children is scored, so a third
record cannot chain twins together). Such a pair is held: it stays open in the queue, saying which rule held
it, for a person to settle. Two records of one institution under different local references are NOT kept
apart: the data model lets a child have several case pointers at one agency (an agency that opened a second
case file for a child it already had is a duplicate like any other).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from registry.consent import policy
from registry.errors import Conflict, InvalidInput
from registry.matching.index import from_entry
from registry.matching.model import LinkageModel
from registry.services.access import check, record_checked
from registry.services.actor import SYSTEM, Actor
from registry.services.context import Registry
from registry.services.review.decisions import AUTO_MERGE_THRESHOLD, MergeResult, merge_open_pair, merge_pair
from registry.services.review.queue import load_pair
from registry.store.models import CaseRecord
from registry.store.tables.matching import LinkageEntry, SuspectedDuplicate

HELD_REJECTED = "not a duplicate"  # a person said two of the records are different children
HELD_TWINS = "possible twins"  # the twin rule keeps two of the records apart
HELD_CONSENT = "consent"  # the policy refused (consent to deduplication withdrawn meanwhile)
MERGES_PER_TRANSACTION = 500  # short transactions: the audit log's appenders wait on an open one


@dataclass
class Plan:
    """What the same-child band decides: the pairs to merge (in order), the pairs held apart and why, and each
    record's cluster (the children as they will be after the merges)."""

    merges: list[int] = field(default_factory=list)
    held: dict[int, str] = field(default_factory=dict)
    clusters: list[tuple[str, str]] = field(default_factory=list)  # (record id, cluster id)


class _Components:
    """Union-find over children, with the records of each and the records each must stay apart from."""

    def __init__(self, child_of: dict[str, str], apart: Iterable[tuple[str, str]]):
        self.child_of = child_of
        self.parent: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}
        for record, child in child_of.items():
            self.members.setdefault(child, []).append(record)
        self.apart: dict[str, set[str]] = {}
        for a, b in apart:
            if a in child_of and b in child_of:
                self.apart.setdefault(child_of[a], set()).add(b)
                self.apart.setdefault(child_of[b], set()).add(a)

    def find(self, child: str) -> str:
        root = child
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(child, child) != root:  # path compression
            self.parent[child], child = root, self.parent[child]
        return root

    def kept_apart(self, x: str, y: str) -> bool:
        return any(self.find(self.child_of[r]) == y for r in self.apart.get(x, ())) or \
            any(self.find(self.child_of[r]) == x for r in self.apart.get(y, ()))

    def union(self, x: str, y: str) -> None:
        keep, gone = min(x, y), max(x, y)
        self.parent[gone] = keep
        self.members[keep] = self.members.get(keep, []) + self.members.pop(gone, [])
        self.apart[keep] = self.apart.get(keep, set()) | self.apart.pop(gone, set())


def plan_same_child(s, model: LinkageModel | None, same_child: list[tuple[int, str, str, float]]) -> Plan:
    """Decide which same-child pairs may be merged, most likely first, without writing anything."""
    child_of: dict[str, str] = dict(s.execute(select(CaseRecord.record_id, CaseRecord.child_id)  # type: ignore[arg-type]
                                               .where(CaseRecord.status == "active")).all())
    rejected = s.execute(select(SuspectedDuplicate.record_a, SuspectedDuplicate.record_b)
                         .where(SuspectedDuplicate.status == "rejected")).all()
    parts = _Components(child_of, rejected)
    rows: dict[str, dict] = {}
    plan = Plan()
    for pair_id, a, b, _ in sorted(same_child, key=lambda p: (-p[3], p[0])):
        if a not in child_of or b not in child_of:
            continue
        x, y = parts.find(child_of[a]), parts.find(child_of[b])
        if x == y:
            continue  # already one child by an earlier merge of this run: that merge closes the pair
        if parts.kept_apart(x, y):
            plan.held[pair_id] = HELD_REJECTED
            continue
        if model is not None and _twins_across(s, model, rows, parts.members[x], parts.members[y], (a, b)):
            plan.held[pair_id] = HELD_TWINS
            continue
        parts.union(x, y)
        plan.merges.append(pair_id)
    first: dict[str, str] = {}
    for record in sorted(child_of):
        first.setdefault(parts.find(child_of[record]), record)  # the cluster's id: its smallest record id
    plan.clusters = [(r, first[parts.find(c)]) for r, c in child_of.items()]
    return plan


def _twins_across(s, model: LinkageModel, rows: dict[str, dict], left: list[str], right: list[str],
                  pair: tuple[str, str]) -> bool:
    """Would one child hold two records the twin rule keeps apart? Scores every record pair across the two."""
    if len(left) == 1 and len(right) == 1:
        return False  # the pair itself, already scored in the same-child band: not capped
    missing = [r for r in (*left, *right) if r not in rows]
    for i in range(0, len(missing), 500):
        for entry in s.scalars(select(LinkageEntry).where(LinkageEntry.record_id.in_(missing[i:i + 500]))):
            rows[entry.record_id] = from_entry(entry)
    for x in left:
        for y in right:
            if {x, y} != set(pair) and x in rows and y in rows and model.score(rows[x], rows[y]).capped_by:
                return True
    return False


def merge_automatically(reg: Registry, run_id: str, pair_ids: list[int]) -> tuple[int, dict[int, str]]:
    """Merge the planned pairs as the system, a few hundred per transaction. Returns (merges made, pairs the
    policy refused). A pair already inside one child (closed by an earlier merge) or decided meanwhile is
    skipped."""
    made, refused = 0, {}
    for i in range(0, len(pair_ids), MERGES_PER_TRANSACTION):
        with reg.db.unit_of_work() as s:
            for pair_id in pair_ids[i:i + MERGES_PER_TRANSACTION]:
                pair, a, b = load_pair(s, pair_id)
                if pair.status != "open" or not a.child_id or not b.child_id or a.child_id == b.child_id:
                    continue
                checks = [check(reg, s, SYSTEM, policy.MERGE, purpose=policy.AUTOMATIC_DEDUPLICATION, child_id=c)
                          for c in (a.child_id, b.child_id)]
                denied = [c for c in checks if not c.decision.permit]
                if denied:
                    record_checked(reg, SYSTEM, denied[0], session=s)
                    refused[pair_id] = HELD_CONSENT
                    continue
                merge_open_pair(reg, s, SYSTEM, pair, (a.child_id, b.child_id), checks[-1].decision,
                                automatic=True, purpose=policy.AUTOMATIC_DEDUPLICATION, run_id=run_id)
                made += 1
    return made, refused


def mark_held(s, held: dict[int, str]) -> None:
    """Pairs a must-stay-apart rule (or the policy) kept from an automatic merge: open, saying why."""
    ids = list(held)
    for i in range(0, len(ids), 500):
        for pair in s.scalars(select(SuspectedDuplicate).where(SuspectedDuplicate.pair_id.in_(ids[i:i + 500]))):
            if pair.status == "open":
                pair.held = held[pair.pair_id]


def auto_merge(reg: Registry, actor: Actor, threshold: float = AUTO_MERGE_THRESHOLD) -> list[MergeResult]:
    """A reviewer's `registry review auto-merge`: every open pair at or above `threshold` (at least 0.99) merged
    as automatic under the same must-stay-apart rules as a batch run; `actor` is who ran it, for the policy
    and the audit log. Pairs that became one child meanwhile are skipped; pairs a rule holds are marked."""
    if threshold < 0.99:
        raise InvalidInput.one("threshold", "automatic merges need a probability of at least 0.99")
    with reg.db.unit_of_work() as s:
        candidates = [tuple(r) for r in s.execute(
            select(SuspectedDuplicate.pair_id, SuspectedDuplicate.record_a, SuspectedDuplicate.record_b,
                   SuspectedDuplicate.probability)
            .where(SuspectedDuplicate.status == "open", SuspectedDuplicate.probability >= threshold))]
        plan = plan_same_child(s, reg.model(), candidates)  # type: ignore[arg-type]
        mark_held(s, plan.held)
    done = []
    for pair_id in plan.merges:
        try:
            done.append(merge_pair(reg, actor, pair_id, automatic=True))
        except Conflict:
            continue
    return done
