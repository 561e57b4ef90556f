"""A batch run's decisions: every scored pair ends as the same child, possible, or different (BRIEF section 7).

- **Same child** (probability >= `model.SAME_THRESHOLD`): merged automatically, by the system, through the merge
  a reviewer makes (`decisions.apply_merges`): recorded as automatic in the lineage with the run's id,
  audited, undone like any merge. Off (REGISTRY_AUTO_MERGE=false), the pairs stay in the queue, ranked first.
- **Possible**: the review queue, ranked by how much a decision is worth (`queue.pair_priority`).
- **Different**: nothing (the batch engine keeps only pairs at or above the possible band).

Must stay apart: an automatic merge never joins two children when that would put, inside one child, two records
a person said are different ("not a duplicate", or an automatic merge undone), nor two records the twin rule
keeps apart ("possible twins": every pair of records across the two children is checked with the comparisons the
rule reads, so a third record cannot chain twins together). Such a pair is held: it stays open in the queue,
saying which rule held it, for a person to settle. Two records of one institution under different local
references are NOT kept apart: the data model lets a child have several case pointers at one agency (an agency
that opened a second case file for a child it already had is a duplicate like any other).

Audit: one event per transaction of automatic merges (at most MERGES_PER_TRANSACTION merges), action "merge",
purpose "automatic-deduplication", by the system, naming every child its merges joined; the lineage names each
merge. Not one event per merge: a first run on a million records merges about 240,000 pairs, and an audit append
cost about 1.5 ms on SQLite here (profiled at 100,000 records): 6 minutes, more than the run's budget. The DPO's
queries go by child (`audit_event_children`), so every merged child is still found in the log; which pair was
merged into which child is the lineage's (`merges`, `merge_moves`). The event commits with its merges (in
`audit_pending`) and is chained every CHAIN_EVERY transactions and at the run's end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from registry.consent import policy
from registry.consent.policy import AccessRequest, ConsentFact, Facts
from registry.errors import Conflict, InvalidInput
from registry.matching.comparisons import COMPARISONS, RULE_COMPARISONS, twin_cap
from registry.matching.index import from_entry
from registry.matching.model import LinkageModel
from registry.services.access import Checked, consent_fact, record_checked, record_decision
from registry.services.actor import SYSTEM, Actor
from registry.services.context import Registry
from registry.services.review.decisions import (
    AUTO,
    AUTO_MERGE_THRESHOLD,
    MergeResult,
    MergeStep,
    apply_merges,
    merge_pair,
)
from registry.store.db import utcnow
from registry.store.models import CaseRecord, Child
from registry.store.rows import insert_rows, plain_rows
from registry.store.tables.consent import ConsentRecord
from registry.store.tables.matching import LinkageEntry, SuspectedDuplicate
from registry.store.tables.review import ReviewLabel

HELD_REJECTED = "not a duplicate"  # a person said two of the records are different children
HELD_TWINS = "possible twins"  # the twin rule keeps two of the records apart
HELD_CONSENT = "consent"  # the policy refused (consent to deduplication withdrawn meanwhile)
TWIN_GIVEN_LEVELS = ("different known names", "different")  # the given-name levels the twin rule reads
PLAN_WINDOW = 2000  # same-child pairs whose linkage rows are fetched together for the twin check
MERGES_PER_TRANSACTION = 1000  # short transactions: the audit log's appenders wait on an open one
# The merges' audit events are committed with them (in `audit_pending`) and chained every this many
# transactions, not after each: each chaining is a commit on the audit writer's own connection, and on SQLite
# any other connection's commit empties the merging connection's page cache (measured at a million records:
# the audit writer's commits and the cold reads after them were two fifths of the merges' time).
CHAIN_EVERY = 10


@dataclass
class Plan:
    """What the same-child band decides: the pairs to merge (in the order to make them: `_in_write_order`),
    the pairs held apart and why, and each record's cluster (the children as they will be after the merges)."""

    merges: list[int] = field(default_factory=list)
    held: dict[int, str] = field(default_factory=dict)
    clusters: dict[str, str] = field(default_factory=dict)  # record id -> cluster id


class _Components:
    """Union-find over children, with the records of each child a pair may join (`involved`: the others' are
    never asked for, and listing a million records' took seconds) and the records each must stay apart from."""

    def __init__(self, child_of: dict[str, str], apart: Iterable[tuple[str, str]], involved: set[str]):
        self.child_of = child_of
        self.parent: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}
        for record, child in child_of.items():
            if child in involved:
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
    child_of: dict[str, str] = dict(plain_rows(s, select(CaseRecord.record_id, CaseRecord.child_id)
                                                 .where(CaseRecord.status == "active")))
    rejected = plain_rows(s, select(SuspectedDuplicate.record_a, SuspectedDuplicate.record_b)
                          .where(SuspectedDuplicate.status == "rejected"))
    ordered = [p for p in sorted(same_child, key=lambda p: (-p[3], p[0])) if p[1] in child_of and p[2] in child_of]
    parts = _Components(child_of, rejected, {child_of[r] for _, a, b, _ in ordered for r in (a, b)})
    rows: dict[str, dict] = {}
    plan = Plan()
    # A pair of two one-record children whose records are in no other same-child pair is never checked: only
    # the others' linkage rows are worth fetching ahead (most pairs of a first run are the former).
    pairs_of = Counter(r for _, a, b, _ in ordered for r in (a, b))
    for n, (pair_id, a, b, _) in enumerate(ordered):
        if model is not None and n % PLAN_WINDOW == 0:
            # The linkage rows the twin check may score, fetched for the next pairs at once (then dropped, so
            # memory stays bounded at a million records): every record of the children they would join.
            rows = {}
            ahead = [(x, y) for _, x, y, _ in ordered[n:n + PLAN_WINDOW]
                     if pairs_of[x] > 1 or pairs_of[y] > 1 or len(parts.members[parts.find(child_of[x])]) > 1
                     or len(parts.members[parts.find(child_of[y])]) > 1]
            _fetch_rows(s, rows, {r for x, y in ahead for end in (x, y)
                                  for r in parts.members[parts.find(child_of[end])]})
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
    plan.merges = _in_write_order(plan.merges, {p[0]: (p[1], p[2]) for p in ordered}, child_of, parts)
    plan.clusters = _clusters(child_of, parts)
    return plan


def _clusters(child_of: dict[str, str], parts: _Components) -> dict[str, str]:
    """Each record's cluster: the child it will belong to after the merges, named by its smallest record id.
    One pass over the records, no sort (a million of them)."""
    root = {child: parts.find(child) for child in list(parts.parent)}  # only merged children have another root
    first: dict[str, str] = {}
    for record, child in child_of.items():
        r = root.get(child, child)
        if record < first.get(r, "\uffff"):
            first[r] = record
    return {record: first[root.get(child, child)] for record, child in child_of.items()}


def _in_write_order(merges: list[int], records_of: dict[int, tuple[str, str]], child_of: dict[str, str],
                    parts: _Components) -> list[int]:
    """The planned merges grouped by the child they make, groups in the order their youngest child's first
    record was read (on SQLite the order its rows were written), each group's merges kept in their order. The
    children a merge absorbs (the younger) and their records then lie on neighbouring pages of their tables
    within a transaction of merges, instead of a page each at a million records. Merges of different groups
    touch different children, so their order does not change what the merges make."""
    involved = {child_of[r] for pair_id in merges for r in records_of[pair_id]}
    position: dict[str, int] = {}
    for n, child in enumerate(child_of.values()):
        if child in involved:
            position.setdefault(child, n)
    youngest: dict[str, int] = {}
    for child, n in position.items():
        root = parts.find(child)
        youngest[root] = max(youngest.get(root, -1), n)
    return sorted(merges, key=lambda pair_id: youngest[parts.find(child_of[records_of[pair_id][0]])])


def _twins_across(s, model: LinkageModel, rows: dict[str, dict], left: list[str], right: list[str],
                  pair: tuple[str, str]) -> bool:
    """Would one child hold two records the twin rule keeps apart? Scores every record pair across the two."""
    if len(left) == 1 and len(right) == 1:
        return False  # the pair itself, already scored in the same-child band: not capped
    _fetch_rows(s, rows, {r for r in (*left, *right) if r not in rows})
    for x in left:
        for y in right:
            if {x, y} != set(pair) and x in rows and y in rows and twin_rule_applies(model, rows[x], rows[y]):
                return True
    return False


def twin_rule_applies(model: LinkageModel, left: dict, right: dict) -> bool:
    """Does the twin rule cap this pair (different given names, the dictionary's or with the same family and
    birthday)? Then it is never the same child automatically. Only the three comparisons the rule reads."""
    levels = {c.name: c for c in model.comparisons}
    given = levels["given"].levels[levels["given"].level_of(left, right)].label
    if given not in TWIN_GIVEN_LEVELS:
        return False
    labels = {name: levels[name].levels[levels[name].level_of(left, right)].label
              for name in RULE_COMPARISONS if name != "given"}
    return twin_cap({"given": given, **labels}) is not None


# Only the columns the twin rule's comparisons read (a third of a linkage row): at a million records the twin
# check fetches some 300,000 rows.
_TWIN_COLUMNS = ("record_id", *sorted({col for c in COMPARISONS if c.name in RULE_COMPARISONS for col in c.columns}))
_TWIN_ROWS = select(*(LinkageEntry.__table__.c[col] for col in _TWIN_COLUMNS)).where(
    LinkageEntry.record_id.in_(bindparam("ids", expanding=True)))


def _fetch_rows(s, rows: dict[str, dict], records: set[str]) -> None:
    for part in _chunks(sorted(records - rows.keys())):
        for row in s.connection().execute(_TWIN_ROWS, {"ids": part}):
            rows[row[0]] = from_entry(dict(zip(_TWIN_COLUMNS, row)))


def merge_automatically(reg: Registry, run_id: str, pair_ids: list[int]) -> tuple[int, dict[int, str]]:
    """Merge the planned pairs as the system, in order, up to a thousand per transaction, through the reviewers'
    merge (`decisions.apply_merges`). Returns (merges made, pairs the policy refused and why). A pair already
    inside one child (an earlier merge closed it) or decided meanwhile is skipped; a transaction that meets a
    concurrent decision is redone a pair at a time."""
    made = 0
    refused: dict[int, str] = {}
    try:
        with reg.db.bulk_writing() as unit_of_work:

            def merge(ids: list[int]) -> int:  # one transaction, its audit event chained later
                with unit_of_work() as s:
                    reg.audit.chain_later(s)
                    return _merge_chunk(reg, s, run_id, ids, refused)

            for n, i in enumerate(range(0, len(pair_ids), MERGES_PER_TRANSACTION), start=1):
                chunk = pair_ids[i:i + MERGES_PER_TRANSACTION]
                try:
                    made += merge(chunk)
                except Conflict:
                    for pair_id in chunk:
                        try:
                            made += merge([pair_id])
                        except Conflict:
                            continue
                if n % CHAIN_EVERY == 0:
                    reg.audit.flush()
    finally:
        reg.audit.flush()  # every committed merge's event in the chain before the run goes on
    return made, refused


def _merge_chunk(reg: Registry, s: Session, run_id: str, pair_ids: list[int], refused: dict[int, str]) -> int:
    sd = SuspectedDuplicate
    # pair id -> (record a, record b, status, probability, match weight), as plain rows
    pairs: dict[int, tuple[Any, ...]] = {}
    for part in _chunks(pair_ids):
        pairs.update({row[0]: tuple(row[1:]) for row in s.execute(
            select(sd.pair_id, sd.record_a, sd.record_b, sd.status, sd.probability, sd.match_weight)
            .where(sd.pair_id.in_(part)))})
    records = sorted({r for p in pairs.values() for r in p[:2]})
    child_of: dict[str, str] = {}
    for part in _chunks(records):
        child_of.update(s.execute(select(CaseRecord.record_id, CaseRecord.child_id)  # type: ignore[arg-type]
                                  .where(CaseRecord.record_id.in_(part), CaseRecord.status == "active")).all())
    steps = []
    for pair_id in pair_ids:
        a, b, status, probability, _ = pairs.get(pair_id, (None, None, None, None, None))
        if status == "open" and a in child_of and b in child_of and child_of[a] != child_of[b]:
            steps.append(MergeStep(pair_id, child_of[a], child_of[b], probability=probability))
    decisions = _policy(reg, s, {c for st in steps for c in (st.child_a, st.child_b)})
    allowed = []
    for st in steps:
        if all(decisions[c].decision.permit for c in (st.child_a, st.child_b)):
            allowed.append(st)
        else:
            assert st.pair_id is not None
            refused[st.pair_id] = HELD_CONSENT
    for checked in {id(c): c for st in steps for c in (decisions[st.child_a], decisions[st.child_b])
                    if not c.decision.permit}.values():
        record_checked(reg, SYSTEM, checked, session=s)  # each refusal is in the log
    if not allowed:
        return 0
    merges = apply_merges(reg, s, allowed, decided_by=AUTO, automatic=True, run_id=run_id)
    insert_rows(s, ReviewLabel.__table__,  # the model's own answer: kept, never counted as evidence
                ("pair_id", "record_a", "record_b", "decision", "decided_by", "probability", "match_weight",
                 "merge_id", "decided_at"),
                ((m.pair_id, pairs[m.pair_id][0], pairs[m.pair_id][1], "merge", AUTO, pairs[m.pair_id][3],
                  pairs[m.pair_id][4], m.merge_id, m.decided_at) for m in merges if m.pair_id is not None))
    # One audit event per transaction, naming every child its merges joined (see the module's docstring).
    children = tuple(sorted({c for m in merges for c in (m.survivor, m.absorbed)}))
    request = AccessRequest(SYSTEM.user_id, SYSTEM.role, SYSTEM.agency, policy.MERGE, policy.AUTOMATIC_DEDUPLICATION)
    record_decision(reg, SYSTEM, request, decisions[allowed[0].child_a].decision, session=s, children=children)
    return len(merges)


def _policy(reg: Registry, s: Session, children: set[str]) -> dict[str, Checked]:
    """The policy decision point asked for each child, on facts gathered for all of them at once (the
    merged pseudonyms of each child, their consents and case holders), as `access.check` gathers them one
    child at a time."""
    ids = sorted(children)
    family = {c: {c} for c in ids}
    todo = {c: c for c in ids}  # pseudonym -> the child whose family it is in
    while todo:
        found = {}
        for part in _chunks(sorted(todo)):
            for merged, into in s.execute(select(Child.child_id, Child.merged_into).where(Child.merged_into.in_(part))):
                assert into is not None  # selected by merged_into IN (...)
                found[merged] = todo[into]
        for merged, child in found.items():
            family[child].add(merged)
        todo = found
    owner = {p: c for c, members in family.items() for p in members}
    consents: dict[str, list[ConsentFact]] = {}
    holders: dict[str, set[str]] = {}
    for part in _chunks(sorted(owner)):
        cr = ConsentRecord  # the columns a consent fact reads, as plain rows (no ORM object per consent)
        for r in s.execute(select(cr.child_id, cr.consent_id, cr.purpose, cr.recipient, cr.basis, cr.given_on,
                                  cr.expires_on, cr.withdrawn_at).where(cr.child_id.in_(part))):
            consents.setdefault(owner[r.child_id], []).append(consent_fact(r))  # type: ignore[arg-type]
        for child, institution in s.execute(select(CaseRecord.child_id, CaseRecord.institution)
                                            .where(CaseRecord.child_id.in_(part), CaseRecord.status == "active")):
            holders.setdefault(owner[child], set()).add(institution)
    today = utcnow().date()
    out = {}
    for c in ids:
        facts = Facts(today=today, child_exists=True, holders=frozenset(holders.get(c, ())),
                      consents=tuple(consents.get(c, ())))
        request = AccessRequest(SYSTEM.user_id, SYSTEM.role, SYSTEM.agency, policy.MERGE,
                                policy.AUTOMATIC_DEDUPLICATION, c)
        out[c] = Checked(request, policy.decide(request, facts), (c,), False)
    return out


def _chunks(ids: list, n: int = 500) -> list[list]:
    return [ids[i:i + n] for i in range(0, len(ids), n)]


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
