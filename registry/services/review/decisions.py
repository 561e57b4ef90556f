"""Decisions on suspected duplicates: merge (reversibly), not a duplicate (sticky), undo a merge. Automatic
merges (registry.services.review.automatic) go through the same `apply_merges`.

Each decision is one unit of work: the policy decision point first, then a conditional UPDATE that claims the
pair (or the merge, or the child) only while it is still undecided, so of two reviewers deciding at once
exactly one applies and the other gets a Conflict. Every decision is audited (pseudonyms only) and kept as a
label (registry.services.review.labels).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from registry.consent import policy
from registry.consent.policy import AccessRequest, Decision
from registry.errors import Conflict, InvalidInput, NotFound
from registry.identity.survivorship import GOLDEN_FIELDS, Golden, golden_identity
from registry.matching.model import SAME_THRESHOLD
from registry.services.access import authorize, record_decision
from registry.services.actor import Actor
from registry.services.context import Registry
from registry.services.review.queue import COVERED, REVIEW_PURPOSE, load_pair, source_records
from registry.store.db import utcnow
from registry.store.models import CaseRecord, Child, resolve_child
from registry.store.rows import insert_rows, update_rows
from registry.store.tables.matching import LinkageEntry, SuspectedDuplicate
from registry.store.tables.review import GoldenChoice, Merge, MergeMove, ReviewLabel

AUTO = "auto"  # decided_by of automatic merges
AUTO_MERGE_THRESHOLD = SAME_THRESHOLD  # the same-child band; the unit can raise it, never below 0.99
MERGE_ACTION, REJECT_ACTION, UNDO_ACTION = "merge", "merge-reject", "merge-undo"  # audit actions
UNDO_REJECT_ACTION = "merge-reject-undo"


@dataclass(frozen=True)
class MergeResult:
    merge_id: str
    survivor: str
    absorbed: str
    records_moved: int
    pair_id: int | None
    automatic: bool
    golden_sources: dict[str, str]  # field -> record id; the values stay in the vault

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class UndoResult:
    merge_id: str
    survivor: str
    restored: str
    records_moved_back: int
    reopened_pairs: list[int]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _audit(reg: Registry, s: Session, actor: Actor, action: str, decision: Decision, children: tuple[str, ...],
           purpose: str = REVIEW_PURPOSE) -> None:
    request = AccessRequest(actor.user_id, actor.role, actor.agency, action, purpose)
    record_decision(reg, actor, request, decision, session=s, children=children)


def _may_decide(reg: Registry, s: Session, actor: Actor) -> None:
    """Whether the caller may decide pairs at all, asked before any pair is looked up: a role that may not
    learns nothing about which pairs exist or how they were decided (403 whatever the pair id)."""
    authorize(reg, s, actor, policy.MERGE, purpose=REVIEW_PURPOSE, audit=False)


def _authorize_merge(reg: Registry, s: Session, actor: Actor, children: tuple[str, ...]) -> Decision:
    """The policy must permit the merge for every child concerned (each denial is logged and raised)."""
    decision = None
    for child in children:
        decision = authorize(reg, s, actor, policy.MERGE, purpose=REVIEW_PURPOSE, child_id=child, audit=False)
    assert decision is not None
    return decision


def _claim_pair(s: Session, pair_id: int, status: str, digests: tuple[str, str] | None = None) -> None:
    """Move the pair out of "open", or raise Conflict when another decision got there first."""
    values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
    if digests:
        values["digest_a"], values["digest_b"] = digests
    done = s.execute(update(SuspectedDuplicate)
                     .where(SuspectedDuplicate.pair_id == pair_id, SuspectedDuplicate.status == "open")
                     .values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"pair {pair_id} was decided by someone else meanwhile", field="pair_id")


def _claim_child(s: Session, child_id: str, **values: Any) -> None:
    """Touch (or change) an active child, or raise Conflict: it was merged or erased meanwhile.
    On PostgreSQL the UPDATE also locks the row until commit, so merges of one child queue up."""
    done = s.execute(update(Child).where(Child.child_id == child_id, Child.status == "active")
                     .values(updated_at=utcnow(), **values).execution_options(synchronize_session=False))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"child {child_id} changed meanwhile (merged or erased); reload and decide again")


def _label(s: Session, pair: SuspectedDuplicate, decision: str, decided_by: str, merge_id: str | None) -> None:
    s.add(ReviewLabel(pair_id=pair.pair_id, record_a=pair.record_a, record_b=pair.record_b, decision=decision,
                      decided_by=decided_by, probability=pair.probability, match_weight=pair.match_weight,
                      merge_id=merge_id))


def _survivor_first(s: Session, a: str, b: str, survivor: str | None) -> tuple[str, str]:
    """The older pseudonym survives (more agencies have known it longer), unless the reviewer names one."""
    if survivor is not None:
        survivor = resolve_child(s, survivor).child_id
        if survivor not in (a, b):
            raise InvalidInput.one("survivor", "must be one of the two children")
        return (a, b) if survivor == a else (b, a)
    ca, cb = s.get(Child, a), s.get(Child, b)
    assert ca is not None and cb is not None
    return (a, b) if (ca.created_at, ca.child_id) <= (cb.created_at, cb.child_id) else (b, a)


@dataclass(frozen=True)
class MergeStep:
    """One merge of a sequence: the pair decided (None: two children a reviewer merged by hand) and its
    probability, the two children as they were when the sequence started (a later step may name a child an
    earlier step absorbed: it means that child's merged self), and the survivor a reviewer named (None: the
    older pseudonym)."""

    pair_id: int | None
    child_a: str
    child_b: str
    survivor: str | None = None
    probability: float | None = None


def _chunks(ids: list[str], n: int = 500) -> list[list[str]]:
    return [ids[i:i + n] for i in range(0, len(ids), n)]


def apply_merges(reg: Registry, s: Session, steps: list[MergeStep], *, decided_by: str, automatic: bool,
                 run_id: str | None = None) -> list[Merged]:
    """Make children one, each step exactly as if it were made alone and in order (a reviewer's merge is a
    sequence of one; a batch run's automatic merges several thousand), in set-based writes. Per step: the older
    pseudonym survives (unless named); the absorbed child's records move to it and its pseudonym points at it;
    the linkage index follows; other open pairs that now lie inside one child are closed with the merge (and
    reopened by its undo). The `merges` rows and one `merge_moves` row per moved record are the lineage.
    Raises Conflict when a child is no longer active or a decided pair no longer open (decided meanwhile).

    Rows are read as plain tuples and written with `store.rows` (tuples to the driver): a first batch run on a
    million records makes some 180,000 merges, where ORM objects and per-row parameter handling cost more
    than the database's work."""
    involved = sorted({c for st in steps for c in (st.child_a, st.child_b)})
    now = utcnow()
    sd = SuspectedDuplicate
    decided = sorted({st.pair_id for st in steps if st.pair_id is not None})
    for part in _chunks(decided):  # type: ignore[arg-type]
        done = s.execute(update(sd).where(sd.pair_id.in_(part), sd.status == "open")
                         .values(status="merged", updated_at=now).execution_options(synchronize_session=False))
        if done.rowcount != len(part):  # type: ignore[attr-defined]
            raise Conflict(f"pair {', '.join(map(str, part))} was decided by someone else meanwhile", field="pair_id")
    born: dict[str, tuple] = {}
    claimed = 0
    for part in _chunks(involved):
        # Claims every child at once (on PostgreSQL the UPDATE locks them until commit: merges of one child queue).
        claim = update(Child).where(Child.child_id.in_(part), Child.status == "active").values(updated_at=now)
        claimed += cast(CursorResult, s.execute(claim.execution_options(synchronize_session=False))).rowcount or 0
        born.update({c: (t, c) for c, t in s.execute(select(Child.child_id, Child.created_at)
                                                     .where(Child.child_id.in_(part)))})
    if claimed != len(involved):
        changed = sorted(set(involved) - set(s.scalars(select(Child.child_id).where(
            Child.child_id.in_(involved), Child.status == "active"))))
        raise Conflict(f"child {', '.join(changed)} changed meanwhile (merged or erased); reload and decide again")
    root_of: dict[str, str] = {}  # record id -> its child as the steps go

    def root(child: str) -> str:
        while child in absorbed_into:
            child = absorbed_into[child]
        return child

    for part in _chunks(involved):
        root_of.update(dict(s.execute(select(CaseRecord.record_id, CaseRecord.child_id)  # type: ignore[arg-type]
                                      .where(CaseRecord.child_id.in_(part))).all()))
    members: dict[str, list[str]] = {}
    for record, child in root_of.items():
        members.setdefault(child, []).append(record)
    touching: dict[str, list[tuple[int, str, str]]] = {}  # record -> the open pairs between involved records
    for part in _chunks(sorted(root_of)):
        # By the records only (their index), the status checked here: with "status = 'open'" in the query
        # the database may walk every open pair instead.
        for pair_id, a, b, status in s.execute(select(sd.pair_id, sd.record_a, sd.record_b, sd.status)
                                               .where(sd.record_a.in_(part))):
            if status == "open" and b in root_of:
                touching.setdefault(a, []).append((pair_id, a, b))
                touching.setdefault(b, []).append((pair_id, a, b))
    absorbed_into: dict[str, str] = {}
    decided_ids = set(decided)
    first_id = time.time_ns() // 1000
    merges: list[Merged] = []
    moves: list[tuple[str, str, str, str]] = []
    closed_all: set[int] = set()
    for st in steps:
        x, y = root(st.child_a), root(st.child_b)
        if x == y:
            continue  # already one child by an earlier step, which closed this pair
        if st.survivor is not None:
            keep = root(st.survivor)
            gone = y if keep == x else x
        else:
            keep, gone = (x, y) if born[x] <= born[y] else (y, x)
        moved = members.pop(gone, [])
        members.setdefault(keep, []).extend(moved)
        absorbed_into[gone] = keep
        for record in moved:
            root_of[record] = keep
        closed: list[int] = []
        for record in moved:
            for pair_id, a, b in touching.get(record, ()):
                if pair_id in closed_all or pair_id in decided_ids:
                    continue
                if root_of[a] == keep and root_of[b] == keep:
                    closed.append(pair_id)
                    closed_all.add(pair_id)
        merge_id = _merge_id(first_id + len(merges))
        # Strictly increasing times: the undo's order of merges (`_blocking_merge`) reads them.
        merges.append(Merged(merge_id, keep, gone, st.pair_id, now + dt.timedelta(microseconds=len(merges)),
                             st.probability, " ".join(map(str, sorted(closed)))))
        moves += [(merge_id, r, gone, keep) for r in moved]
    update_rows(s, sd.__table__, ("status", "updated_at"), ("pair_id",),  # the pairs closed above
                (("merged", now, p) for p in sorted(closed_all)))
    insert_rows(s, Merge.__table__,
                ("merge_id", "survivor", "absorbed", "pair_id", "closed_pairs", "decided_by", "automatic",
                 "probability", "run_id", "decided_at"),
                ((m.merge_id, m.survivor, m.absorbed, m.pair_id, m.closed_pairs, decided_by, automatic,
                  m.probability, run_id, m.decided_at) for m in merges))
    insert_rows(s, MergeMove.__table__, ("merge_id", "record_id", "from_child", "to_child"), moves)
    # The absorbed children, then every moved record (its case pointer and its linkage row) to the child it
    # ends in.
    update_rows(s, Child.__table__, ("status", "merged_into", "updated_at"), ("child_id",),
                (("merged", m.survivor, now, m.absorbed) for m in merges))
    final = [(root(to_child), record) for _, record, _, to_child in moves]
    update_rows(s, CaseRecord.__table__, ("child_id", "updated_at"), ("record_id",),
                ((child, now, record) for child, record in final))
    update_rows(s, LinkageEntry.__table__, ("child_id",), ("record_id",), final)
    s.expire_all()  # the children, records and pairs changed by set-based writes are read afresh
    return merges


def _merge_id(microseconds: int) -> str:
    """A new merge's id: the time first (so that the lineage's indexes that start with it grow at their end, not
    at a random page each: a batch run makes a quarter of a million merges), then a random tail."""
    return f"M{microseconds:014x}{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Merged:
    """A merge just made (its lineage row's fields that callers need)."""

    merge_id: str
    survivor: str
    absorbed: str
    pair_id: int | None
    decided_at: dt.datetime
    probability: float | None = None
    closed_pairs: str = ""


def _move(reg: Registry, s: Session, survivor: str, absorbed: str, *, pair: SuspectedDuplicate | None,
          decided_by: str, automatic: bool, overrides: Mapping[str, str] | None, run_id: str | None = None) -> Merged:
    """One merge (apply_merges of one step) with the reviewer's field choices for the golden identity."""
    step = MergeStep(pair.pair_id if pair else None, survivor, absorbed, survivor, pair.probability if pair else None)
    merge = apply_merges(reg, s, [step], decided_by=decided_by, automatic=automatic, run_id=run_id)[0]
    ids = set(s.scalars(select(CaseRecord.record_id).where(CaseRecord.child_id == survivor)))
    for name, record_id in (overrides or {}).items():
        if name not in GOLDEN_FIELDS:
            raise InvalidInput.one(f"overrides.{name}", f"not a field of the identity ({', '.join(GOLDEN_FIELDS)})")
        if record_id not in ids:
            raise InvalidInput.one(f"overrides.{name}", "must name a record of one of the two children")
        s.add(GoldenChoice(merge_id=merge.merge_id, field=name, child_id=survivor, record_id=record_id))
    return merge


def golden_choices(s: Session, child_id: str) -> dict[str, str]:
    """The reviewers' field choices in force for a child: the latest merge's choice per field wins."""
    rows = s.execute(select(GoldenChoice.field, GoldenChoice.record_id)
                     .join(Merge, Merge.merge_id == GoldenChoice.merge_id)
                     .where(GoldenChoice.child_id == child_id, Merge.undone_at.is_(None))
                     .order_by(Merge.decided_at))
    return {f: r for f, r in rows}


def golden_of(reg: Registry, s: Session, child_id: str) -> Golden:
    return golden_identity(source_records(reg, s, [child_id]), golden_choices(s, child_id))


def merge_pair(reg: Registry, actor: Actor, pair_id: int, overrides: Mapping[str, str] | None = None, *,
               survivor: str | None = None, automatic: bool = False) -> MergeResult:
    """Decide "same child" on a queued pair: its two children become one, reversibly."""
    with reg.db.unit_of_work() as s:
        _may_decide(reg, s, actor)
        pair, a, b = load_pair(s, pair_id)
        if pair.status != "open":
            raise Conflict(f"pair {pair_id} is already decided ({pair.status})", field="pair_id")
        if not a.child_id or not b.child_id:
            raise Conflict("a record of this pair was erased: there is nothing to merge", field="pair_id")
        if a.child_id == b.child_id:
            raise Conflict("the two records already belong to one child", field="pair_id")
        decision = _authorize_merge(reg, s, actor, (a.child_id, b.child_id))
        merge = merge_open_pair(reg, s, actor, pair, (a.child_id, b.child_id), decision, overrides=overrides,
                                survivor=survivor, automatic=automatic)
        s.flush()
        golden = golden_of(reg, s, merge.survivor)
        moved = len(list(s.scalars(select(MergeMove.record_id).where(MergeMove.merge_id == merge.merge_id))))
        return MergeResult(merge.merge_id, merge.survivor, merge.absorbed, moved, pair_id, automatic, golden.sources)


def merge_open_pair(reg: Registry, s: Session, actor: Actor, pair: SuspectedDuplicate, children: tuple[str, str],
                    decision: Decision, *, overrides: Mapping[str, str] | None = None, survivor: str | None = None,
                    automatic: bool = False, purpose: str = REVIEW_PURPOSE, run_id: str | None = None) -> Merged:
    """The one merge of a pair, a reviewer's or automatic, in the caller's unit of work once the policy has
    permitted it: claim the pair, move the records, keep the label, audit (one event naming the two children)."""
    keep, gone = _survivor_first(s, children[0], children[1], survivor)
    decided_by = AUTO if automatic else actor.user_id
    merge = _move(reg, s, keep, gone, pair=pair, decided_by=decided_by, automatic=automatic, overrides=overrides,
                  run_id=run_id)
    _label(s, pair, "merge", decided_by, merge.merge_id)
    _audit(reg, s, actor, MERGE_ACTION, decision, (keep, gone), purpose)
    return merge


def merge_children(reg: Registry, actor: Actor, child_a: str, child_b: str, overrides: Mapping[str, str] | None = None,
                   *, survivor: str | None = None) -> MergeResult:
    """Merge two children the queue never paired (a reviewer who knows they are one): same rules, no label."""
    with reg.db.unit_of_work() as s:
        a, b = resolve_child(s, child_a).child_id, resolve_child(s, child_b).child_id
        if a == b:
            raise Conflict("these pseudonyms already name one child")
        decision = _authorize_merge(reg, s, actor, (a, b))
        keep, gone = _survivor_first(s, a, b, survivor)
        merge = _move(reg, s, keep, gone, pair=None, decided_by=actor.user_id, automatic=False, overrides=overrides)
        _audit(reg, s, actor, MERGE_ACTION, decision, (keep, gone))
        s.flush()
        moved = len(list(s.scalars(select(MergeMove.record_id).where(MergeMove.merge_id == merge.merge_id))))
        return MergeResult(merge.merge_id, keep, gone, moved, None, False, golden_of(reg, s, keep).sources)


def reject_pair(reg: Registry, actor: Actor, pair_id: int) -> dict[str, Any]:
    """Decide "not the same child". Sticky: deduplication never queues the pair again while both records'
    identities stay as they are now (their content digests are kept with the decision)."""
    with reg.db.unit_of_work() as s:
        _may_decide(reg, s, actor)
        pair, a, b = load_pair(s, pair_id)
        if pair.status != "open":
            raise Conflict(f"pair {pair_id} is already decided ({pair.status})", field="pair_id")
        children = tuple(c for c in (a.child_id, b.child_id) if c)
        decision = _authorize_merge(reg, s, actor, children)
        ra, rb = s.get(CaseRecord, pair.record_a), s.get(CaseRecord, pair.record_b)
        # The digests of the identities the reviewer saw: a later change to either record reopens the question.
        digests = (ra.content_digest if ra else pair.digest_a, rb.content_digest if rb else pair.digest_b)
        _claim_pair(s, pair_id, "rejected", digests)
        _cover_pairs_between(s, children)
        _label(s, pair, "not-duplicate", actor.user_id, None)
        _audit(reg, s, actor, REJECT_ACTION, decision, children)
        return {"pair_id": pair_id, "status": "rejected", "children": list(children)}


def _cover_pairs_between(s: Session, children: tuple[str, ...]) -> None:
    """The answer holds for the two children, not only the two records compared: their other open pairs leave
    the queue with it (`queue.COVERED`; batch runs keep them out while the rejection stands)."""
    if len(children) != 2:
        return
    x, y = ([r for (r,) in s.execute(select(CaseRecord.record_id).where(CaseRecord.child_id == c))] for c in children)
    sd = SuspectedDuplicate
    for a_side, b_side in ((x, y), (y, x)):
        for part in _chunks(a_side):
            s.execute(update(sd).where(sd.status == "open", sd.record_a.in_(part), sd.record_b.in_(b_side))
                      .values(status=COVERED, updated_at=utcnow()).execution_options(synchronize_session=False))


def undo_rejection(reg: Registry, actor: Actor, pair_id: int) -> dict[str, Any]:
    """Take back a "not a duplicate": the pair is open in the queue again, and the label says "undone"."""
    with reg.db.unit_of_work() as s:
        _may_decide(reg, s, actor)
        pair, a, b = load_pair(s, pair_id)
        children = tuple(c for c in (a.child_id, b.child_id) if c)
        decision = _authorize_merge(reg, s, actor, children)
        done = s.execute(update(SuspectedDuplicate)
                         .where(SuspectedDuplicate.pair_id == pair_id, SuspectedDuplicate.status == "rejected")
                         .values(status="open", updated_at=utcnow()).execution_options(synchronize_session=False))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"pair {pair_id} is not rejected ({pair.status})", field="pair_id")
        _label(s, pair, "undone", actor.user_id, None)
        _audit(reg, s, actor, UNDO_REJECT_ACTION, decision, children)
        return {"pair_id": pair_id, "status": "open", "children": list(children)}


def _blocking_merge(s: Session, merge: Merge) -> Merge | None:
    """A later, still applied merge that moved this merge's survivor or records on: it must be undone first."""
    later = s.scalars(select(Merge).where(Merge.absorbed == merge.survivor, Merge.undone_at.is_(None),
                                          Merge.merge_id != merge.merge_id)).first()
    if later is not None:
        return later
    ids = list(s.scalars(select(MergeMove.record_id).where(MergeMove.merge_id == merge.merge_id)))
    return s.scalars(select(Merge).join(MergeMove, MergeMove.merge_id == Merge.merge_id)
                     .where(MergeMove.record_id.in_(ids), Merge.undone_at.is_(None),
                            Merge.merge_id != merge.merge_id, Merge.decided_at >= merge.decided_at)).first()


def undo_merge(reg: Registry, actor: Actor, merge_id: str) -> UndoResult:
    """Restore the two children exactly as they were before the merge: records, statuses, open pairs.

    Allowed while the merge's records still sit with its survivor and the survivor is still a child of its
    own; after a later merge moved them on, that merge has to be undone first (the Conflict names it).
    """
    with reg.db.unit_of_work() as s:
        merge = s.get(Merge, merge_id)
        if merge is None:
            raise NotFound("merge", merge_id)
        if merge.undone_at is not None:
            raise Conflict(f"merge {merge_id} was undone already", field="merge_id")
        survivor = s.get(Child, merge.survivor)
        if survivor is None or survivor.status == "erased":
            raise Conflict("the child was erased since: a merge cannot be undone after erasure", field="merge_id")
        blocker = _blocking_merge(s, merge)
        if blocker is not None:
            raise Conflict(f"merge {blocker.merge_id} (into {blocker.survivor}) came later and moved this merge's "
                           f"records on: undo {blocker.merge_id} first", field="merge_id")
        decision = _authorize_merge(reg, s, actor, (merge.survivor,))
        done = s.execute(update(Merge).where(Merge.merge_id == merge_id, Merge.undone_at.is_(None))
                         .values(undone_at=utcnow(), undone_by=actor.user_id)
                         .execution_options(synchronize_session=False))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"merge {merge_id} was undone by someone else meanwhile", field="merge_id")
        _claim_child(s, merge.survivor)
        back = s.execute(update(Child).where(Child.child_id == merge.absorbed, Child.status == "merged",
                                             Child.merged_into == merge.survivor)
                         .values(status="active", merged_into=None, updated_at=utcnow())
                         .execution_options(synchronize_session=False))
        if back.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"child {merge.absorbed} no longer points at {merge.survivor}; lineage is inconsistent")
        ids = list(s.scalars(select(MergeMove.record_id).where(MergeMove.merge_id == merge_id)))
        for rec in s.scalars(select(CaseRecord).where(CaseRecord.record_id.in_(ids))):
            rec.child_id = merge.absorbed
        reg.index.reassign(s, ids, merge.absorbed)
        reopened = [int(p) for p in merge.closed_pairs.split()] + ([merge.pair_id] if merge.pair_id else [])
        # Undoing an automatic merge is a person saying "not the same child": its pairs become rejected (sticky,
        # with the records' digests, so the next batch run does not merge them again). A reviewer's merge undone
        # puts its question back in the queue once (`queue.COVERED`): the pair the reviewer decided is open again
        # (else the most probable), the two children's other pairs are covered by it.
        closed = [p for p in s.scalars(select(SuspectedDuplicate).where(SuspectedDuplicate.pair_id.in_(reopened)))
                  if p.status == "merged"]
        if merge.automatic:
            for pair in closed:
                pair.status = "rejected"
                current = s.get(CaseRecord, pair.record_a), s.get(CaseRecord, pair.record_b)
                pair.digest_a, pair.digest_b = (r.content_digest if r else d for r, d in
                                                zip(current, (pair.digest_a, pair.digest_b)))
        else:
            asks = next((p for p in closed if p.pair_id == merge.pair_id), None) or max(
                closed, key=lambda p: (p.probability or 0.0, -p.pair_id), default=None)
            for pair in closed:
                pair.status = "open" if pair is asks else COVERED
        if merge.pair_id is not None:
            decided = s.get(SuspectedDuplicate, merge.pair_id)
            if decided is not None:
                _label(s, decided, "not-duplicate" if merge.automatic else "undone", actor.user_id, merge_id)
        _audit(reg, s, actor, UNDO_ACTION, decision, (merge.survivor, merge.absorbed))
        return UndoResult(merge_id, merge.survivor, merge.absorbed, len(ids), sorted(reopened))


def decide_pair(reg: Registry, actor: Actor, pair_id: int, decision: str, overrides: dict[str, str] | None = None,
                survivor: str | None = None) -> dict[str, Any]:
    """A reviewer's decision on a pair: "merge" (reversible) or "not-duplicate" (sticky)."""
    if decision == "merge":
        return merge_pair(reg, actor, pair_id, overrides or {}, survivor=survivor).as_dict()
    if decision == "not-duplicate":
        return reject_pair(reg, actor, pair_id)
    raise InvalidInput.one("decision", "must be merge or not-duplicate")
