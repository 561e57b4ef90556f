"""The review queue: open suspected pairs grouped into clusters (pairs connected through shared children),
ranked by probability, filterable by governorate and institution, each pair explained field by field.
A reviewer with the purpose "deduplication-review" also sees the two identities side by side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, case, cast, func, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from registry.consent import policy
from registry.consent.policy import AccessRequest
from registry.errors import NotFound
from registry.identity.survivorship import Golden, SourceRecord, golden_identity
from registry.identity.vault import Erased
from registry.matching.explain import explain_records
from registry.matching.model import decision_band
from registry.services.access import authorize, record_decision
from registry.services.actor import Actor
from registry.services.context import Registry
from registry.store.db import utcnow
from registry.store.models import CaseRecord
from registry.store.rows import delete_rows, insert_rows, plain_rows, update_rows
from registry.store.tables.matching import ClusterAssignment, LinkageEntry, SuspectedDuplicate

REVIEW_PURPOSE = policy.DEDUPLICATION_REVIEW
# A pair's queue cluster as the last batch run stored it; a pair queued by a registration since then is a
# cluster of its own until the next run.
_CLUSTER_KEY = func.coalesce(SuspectedDuplicate.cluster_key, literal("P") + cast(SuspectedDuplicate.pair_id, String))
# The queue's order: how much a decision is worth (pair_priority), the probability for a pair not yet weighed.
_PRIORITY = func.coalesce(SuspectedDuplicate.priority, SuspectedDuplicate.probability)


@dataclass(frozen=True)
class Side:
    record_id: str
    child_id: str
    institution: str
    governorate: str | None


@dataclass
class QueuePair:
    pair_id: int
    a: Side
    b: Side
    probability: float
    match_weight: float
    source: str
    why: list[str] = field(default_factory=list)  # the explanation in words, strongest first
    priority: float | None = None  # how much a decision is worth (the queue's order)
    held: str | None = None  # the rule that kept a same-child pair from an automatic merge

    @property
    def worth(self) -> float:
        return self.priority if self.priority is not None else self.probability

    def as_dict(self) -> dict[str, Any]:
        return {"pair_id": self.pair_id, "probability": self.probability, "match_weight": round(self.match_weight, 2),
                "source": self.source, "band": decision_band(self.probability), "held": self.held,
                "a": self.a.__dict__, "b": self.b.__dict__, "why": self.why}


@dataclass
class Cluster:
    cluster_id: str  # "C" + the smallest pair id: stable while the cluster's pairs stay open
    probability: float  # its most worthwhile pair's
    children: list[str]
    pairs: list[QueuePair]

    def as_dict(self) -> dict[str, Any]:
        return {"cluster_id": self.cluster_id, "probability": self.probability, "children": self.children,
                "pairs": [p.as_dict() for p in self.pairs]}


@dataclass
class QueuePage:
    total: int  # clusters matching the filters
    offset: int
    limit: int
    clusters: list[Cluster]


def _chunks(ids: list, n: int = 500) -> Iterable[list]:
    for i in range(0, len(ids), n):
        yield ids[i:i + n]


def _sides(session: Session, record_ids: set[str]) -> dict[str, Side]:
    """Each live record's current child, institution and governorate (erased records are left out)."""
    out: dict[str, Side] = {}
    for part in _chunks(sorted(record_ids)):
        rows = session.execute(
            select(CaseRecord.record_id, CaseRecord.child_id, CaseRecord.institution, LinkageEntry.governorate)
            .outerjoin(LinkageEntry, LinkageEntry.record_id == CaseRecord.record_id)
            .where(CaseRecord.record_id.in_(part), CaseRecord.status == "active"))
        for rid, child, inst, gov in rows:
            out[rid] = Side(rid, child, inst, gov)
    return out


def _pair_rows(session: Session, where: list[Any]) -> list[tuple[str, QueuePair]]:
    """Open pairs with both records live and still two children, with each side's child, institution and
    governorate, in one joined query (no ORM objects: a million-record registry has ~437,000 open pairs)."""
    sd = SuspectedDuplicate
    rec_a, rec_b = aliased(CaseRecord), aliased(CaseRecord)
    link_a, link_b = aliased(LinkageEntry), aliased(LinkageEntry)
    rows = session.execute(
        select(_CLUSTER_KEY, sd.pair_id, sd.record_a, sd.record_b, sd.probability, sd.match_weight, sd.source,
               sd.priority, sd.held, rec_a.child_id, rec_a.institution, link_a.governorate,
               rec_b.child_id, rec_b.institution, link_b.governorate)
        .join(rec_a, rec_a.record_id == sd.record_a)
        .join(rec_b, rec_b.record_id == sd.record_b)
        .outerjoin(link_a, link_a.record_id == sd.record_a)
        .outerjoin(link_b, link_b.record_id == sd.record_b)
        .where(sd.status == "open", rec_a.status == "active", rec_b.status == "active", *where))
    out = []
    for key, pair_id, ra, rb, prob, weight, source, worth, held, ca, ia, ga, cb, ib, gb in rows:
        if ca == cb:
            continue
        out.append((key, QueuePair(pair_id, Side(ra, ca, ia, ga), Side(rb, cb, ib, gb), prob, weight, source,
                                   priority=worth, held=held)))
    return out


def open_pairs(session: Session) -> list[QueuePair]:
    """Every open pair still worth a decision."""
    return [pair for _, pair in _pair_rows(session, [])]


def _clusters_by_key(rows: list[tuple[str, QueuePair]]) -> list[Cluster]:
    """Pairs grouped by cluster key, the most worthwhile decision first. The queue uses the keys stored by the
    last batch run (so a page of clusters in SQL and the clusters shown are the same thing); clusters_of
    computes its own."""
    groups: dict[str, list[QueuePair]] = {}
    for key, pair in rows:
        groups.setdefault(key, []).append(pair)
    clusters = []
    for members in groups.values():
        members.sort(key=lambda p: (-p.worth, p.pair_id))
        children = sorted({c for p in members for c in (p.a.child_id, p.b.child_id)})
        clusters.append((members[0].worth, Cluster(f"C{min(p.pair_id for p in members)}", members[0].probability,
                                                   children, members)))
    clusters.sort(key=lambda wc: (-wc[0], wc[1].cluster_id))
    return [c for _, c in clusters]


def _key_new_pairs(session: Session) -> None:
    """Give open pairs queued since the last batch run (registration) their cluster: joined with the keyed
    clusters they share a child with, merging those clusters where a new pair connects two of them."""
    sd = SuspectedDuplicate
    rec_a, rec_b = aliased(CaseRecord), aliased(CaseRecord)

    def pairs_where(*conditions: Any) -> list[tuple[int, str | None, str, str]]:
        rows = session.execute(
            select(sd.pair_id, sd.cluster_key, rec_a.child_id, rec_b.child_id)
            .join(rec_a, rec_a.record_id == sd.record_a).join(rec_b, rec_b.record_id == sd.record_b)
            .where(sd.status == "open", *conditions))
        return [tuple(r) for r in rows]  # type: ignore[misc]

    new = pairs_where(sd.cluster_key.is_(None))
    if not new:
        return
    children = {c for _, _, a, b in new for c in (a, b)}
    touching = pairs_where(sd.cluster_key.is_not(None),
                           or_(rec_a.child_id.in_(children), rec_b.child_id.in_(children)))
    keyed = {k for _, k, _, _ in touching}
    if keyed:  # every pair of a cluster that is about to be joined
        touching += pairs_where(sd.cluster_key.in_(keyed))
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    def union(x: str, y: str) -> None:
        rx, ry = root(x), root(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)

    for _, key, a, b in new + touching:
        union(a, b)
        if key is not None:
            union("key:" + key, a)
    # Each component keeps its smallest existing key, or takes "K" + its smallest child id.
    key_of: dict[str, str] = {}
    child_of: dict[str, str] = {}
    for _, key, a, b in new + touching:
        r = root(a)
        if key is not None:
            key_of[r] = min(key_of.get(r, key), key)
        child_of[r] = min(child_of.get(r, a), a, b)
    for pair_id, key, a, _ in set(new + touching):
        wanted = key_of.get(root(a)) or "K" + child_of[root(a)]
        if key != wanted:
            session.execute(update(sd).where(sd.pair_id == pair_id).values(cluster_key=wanted))


def _cluster_page(session: Session, governorate: str | None, institution: str | None, source: str | None,
                  offset: int, limit: int) -> tuple[int, list[str]]:
    """(how many stored clusters pass the filters, the keys of one page of them, most likely first), in SQL."""
    sd = SuspectedDuplicate
    rec_a, rec_b = aliased(CaseRecord), aliased(CaseRecord)
    link_a, link_b = aliased(LinkageEntry), aliased(LinkageEntry)
    wanted = []  # a cluster passes a filter when any of its pairs does
    if governorate:
        wanted.append(or_(link_a.governorate == governorate, link_b.governorate == governorate))
    if institution:
        wanted.append(or_(rec_a.institution == institution, rec_b.institution == institution))
    if source:
        wanted.append(sd.source == source)
    having = [func.max(case((w, 1), else_=0)) == 1 for w in wanted]
    query = (select(_CLUSTER_KEY.label("key"), func.max(_PRIORITY).label("probability"),
                    func.min(sd.pair_id).label("first_pair"))
             .where(sd.status == "open").group_by(_CLUSTER_KEY).having(*having))
    if governorate or institution:  # the joins cost seconds at a million records: only when a filter needs them
        query = (query.join(rec_a, rec_a.record_id == sd.record_a).join(rec_b, rec_b.record_id == sd.record_b)
                 .outerjoin(link_a, link_a.record_id == sd.record_a)
                 .outerjoin(link_b, link_b.record_id == sd.record_b))
    clusters = query.subquery()
    total = session.scalar(select(func.count()).select_from(clusters)) or 0
    # The same order as clusters_of: most worthwhile first, then "C" + the smallest pair id as text.
    keys = session.scalars(
        select(clusters.c.key)
        .order_by(clusters.c.probability.desc(), (literal("C") + cast(clusters.c.first_pair, String)))
        .offset(offset).limit(limit)).all()
    return total, list(keys)


def clusters_of(pairs: list[QueuePair]) -> list[Cluster]:
    """Union-find over children: pairs sharing a child (or a record) are one cluster, decided together."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        parent[find(p.a.child_id)] = find(p.b.child_id)
    return _clusters_by_key([(find(p.a.child_id), p) for p in pairs])


def review_queue(reg: Registry, actor: Actor, *, governorate: str | None = None, institution: str | None = None,
                 source: str | None = None, offset: int = 0, limit: int = 20) -> QueuePage:
    """One page of the queue, the most worthwhile decisions first. Pseudonyms, institutions and reasons only."""
    with reg.db.unit_of_work() as s:
        authorize(reg, s, actor, policy.READ, purpose=REVIEW_PURPOSE)
        _key_new_pairs(s)
        total, keys = _cluster_page(s, governorate, institution, source, offset, limit)
        page = _clusters_by_key(_pair_rows(s, [_CLUSTER_KEY.in_(keys)])) if keys else []
        model = reg.model()
        for c in page:
            for p in c.pairs:
                ex = explain_records(model, s, p.a.record_id, p.b.record_id)
                p.why = [f.words for f in ex.fields] if ex else []
        return QueuePage(total, offset, limit, page)


@dataclass
class PairView:
    pair: QueuePair
    status: str
    explanation: dict[str, Any] | None
    identities: dict[str, dict[str, Any] | None] | None  # record id -> identity; None without the purpose
    golden_preview: dict[str, Any] | None  # what a merge would make of the two children, by the rules

    def as_dict(self) -> dict[str, Any]:
        return {**self.pair.as_dict(), "status": self.status, "explanation": self.explanation,
                "identities": self.identities, "golden_preview": self.golden_preview}


def source_records(reg: Registry, session: Session, child_ids: Iterable[str]) -> list[SourceRecord]:
    """The opened identities of the children's live records (the caller has passed the policy check)."""
    recs = session.scalars(select(CaseRecord).where(CaseRecord.child_id.in_(list(child_ids)),
                                                    CaseRecord.status == "active")).all()
    out = []
    for r in recs:
        try:
            out.append(SourceRecord(r.record_id, r.updated_at, reg.vault.open(session, r.record_id)))
        except Erased:
            continue
    return out


def load_pair(session: Session, pair_id: int) -> tuple[SuspectedDuplicate, Side, Side]:
    # Ids beyond the database's integers are simply not there (SQLite would overflow on them).
    pair = session.get(SuspectedDuplicate, pair_id) if 1 <= pair_id < 2**63 else None
    if pair is None:
        raise NotFound("pair", str(pair_id))
    sides = _sides(session, {pair.record_a, pair.record_b})
    missing = Side("", "", "", None)
    return pair, sides.get(pair.record_a, missing), sides.get(pair.record_b, missing)


def get_pair(reg: Registry, actor: Actor, pair_id: int, purpose: str | None = None) -> PairView:
    """A pair with its explanation; the identities too when the caller states the purpose and the policy agrees.

    Without a purpose the caller sees what the queue shows; any purpose other than deduplication review is
    refused by the policy decision point for the national unit (and logged).
    """
    with reg.db.unit_of_work() as s:
        # The policy first: a caller it refuses learns nothing about which pairs exist (403 for any id).
        if purpose is None:
            authorize(reg, s, actor, policy.READ, purpose=REVIEW_PURPOSE)
        else:
            authorize(reg, s, actor, policy.READ, purpose=purpose, audit=False)
        pair, a, b = load_pair(s, pair_id)
        identities: dict[str, dict[str, Any] | None] | None = None
        golden: Golden | None = None
        if purpose is not None:
            children = tuple(sorted({c for c in (a.child_id, b.child_id) if c}))
            # Every child is checked before anything is written: a denial is logged in its own transaction,
            # which must not wait on this one's write lock. Then one event names both children.
            decision = None
            for child in children:
                decision = authorize(reg, s, actor, policy.READ, purpose=purpose, child_id=child, audit=False)
            if decision is not None:
                request = AccessRequest(actor.user_id, actor.role, actor.agency, policy.READ, purpose)
                record_decision(reg, actor, request, decision, session=s, children=children)
            identities = {}
            for rid in (pair.record_a, pair.record_b):
                try:
                    identities[rid] = reg.vault.open(s, rid).to_dict()
                except (Erased, LookupError):
                    identities[rid] = None
            golden = golden_identity(source_records(reg, s, {c for c in (a.child_id, b.child_id) if c}))
        ex = explain_records(reg.model(), s, pair.record_a, pair.record_b)
        qp = QueuePair(pair.pair_id, a, b, pair.probability, pair.match_weight, pair.source,
                       [f.words for f in ex.fields] if ex else [], pair.priority, pair.held)
        return PairView(qp, pair.status, ex.as_dict() if ex else None, identities,
                        golden.as_dict() if golden else None)


@dataclass
class StoredPairs:
    """What a batch run's pairs did to the queue."""

    added: int  # pairs newly open (new, or reopened because a record changed)
    same_child: list[tuple[int, str, str, float]]  # open pairs in the same-child band: (pair id, a, b, probability)


def store_batch_pairs(s: Session, run_id: str, pairs: list) -> StoredPairs:
    """A batch run's scored pairs (probability at or above the possible band's floor), in the caller's unit of
    work: new pairs stored open (rejected pairs stay rejected while their records are unchanged; pairs whose
    records already belong to one child are left out); batch pairs this run did not find again become stale.
    The same-child band's open pairs are returned for the automatic merge (registry.services.review.automatic),
    which runs next; `finish_batch_queue` then orders what stays open.

    Set-based: the known pairs are read as plain rows, and the inserts and updates go to the driver as tuples
    (`store.rows`), not one ORM object per pair (a first run on a million records stores some 400,000 pairs)."""
    records = {record: (child, digest) for record, child, digest in
               plain_rows(s, select(CaseRecord.record_id, CaseRecord.child_id, CaseRecord.content_digest))}
    sd = SuspectedDuplicate
    known = {(a, b): (pair_id, status, digest_a, digest_b) for pair_id, a, b, status, digest_a, digest_b in
             plain_rows(s, select(sd.pair_id, sd.record_a, sd.record_b, sd.status, sd.digest_a, sd.digest_b))}
    now = utcnow()
    new, rescored, uncovered, reopened, seen = [], [], [], [], set()
    for left, right, prob, weight in pairs:
        a, b = sorted((left, right))
        if a not in records or b not in records or records[a][0] == records[b][0] or (a, b) in seen:
            continue
        seen.add((a, b))
        digests = (records[a][1], records[b][1])
        existing = known.get((a, b))
        if existing is None:
            new.append((a, b, prob, weight, "open", "batch", digests[0], digests[1], run_id, now, now))
            continue
        pair_id, status, digest_a, digest_b = existing
        if status == "rejected" and (digest_a, digest_b) == digests:
            continue  # sticky: a reviewer said no, and neither record has changed
        if status == "open":
            rescored.append((prob, weight, run_id, None, now, pair_id))
        elif status == COVERED:  # back in the running, not new: `finish_batch_queue` decides which pair asks
            uncovered.append((prob, weight, run_id, None, now, "open", pair_id))
        elif status in ("rejected", "stale"):
            reopened.append((prob, weight, run_id, None, now, "open", digests[0], digests[1], pair_id))
    scored = ("probability", "match_weight", "run_id", "held", "updated_at")
    by_pair = (lambda row: row[-1])  # in the pairs' order: neighbours share pages
    update_rows(s, sd.__table__, scored, ("pair_id",), sorted(rescored, key=by_pair))
    update_rows(s, sd.__table__, (*scored, "status"), ("pair_id",), sorted(uncovered, key=by_pair))
    update_rows(s, sd.__table__, (*scored, "status", "digest_a", "digest_b"), ("pair_id",),
                sorted(reopened, key=by_pair))
    # By the place of the pair's later record in the registry, the order in which the automatic merges take
    # them (`automatic._in_write_order`): the pairs a transaction of merges closes then share their pages
    # (table and status index) instead of one page each.
    position = {record: n for n, record in enumerate(records)}
    new.sort(key=lambda row: (max(position[row[0]], position[row[1]]), -row[2]))
    insert_rows(s, sd.__table__, ("record_a", "record_b", "probability", "match_weight", "status", "source",
                                  "digest_a", "digest_b", "run_id", "created_at", "updated_at"), new)
    # An open pair an earlier run suggested but this one no longer scores (new model, changed record,
    # consent withdrawn) leaves the queue rather than wait there with an out-of-date probability.
    s.execute(update(sd).where(sd.status == "open", sd.source == "batch", sd.run_id != run_id)
              .values(status="stale", updated_at=now).execution_options(synchronize_session=False))
    same = [(pair_id, a, b, p) for pair_id, a, b, p in s.execute(
        select(sd.pair_id, sd.record_a, sd.record_b, sd.probability)
        .where(sd.status == "open", sd.run_id == run_id)) if decision_band(p) == "same"]
    return StoredPairs(len(new) + len(reopened), same)


def pair_priority(probability: float, records_a: int, records_b: int) -> float:
    """How much a decision on a pair is worth: the queue's order, highest first.

    A pair nobody decides stays two children, so what a decision saves is the chance the pair is one child
    (calibrated: the probability) times the record pairs a merge would join (records of the one child times
    records of the other). Same-child pairs (queued when automatic merging is off, or held apart by a rule)
    come before every possible pair.
    """
    worth = probability * records_a * records_b
    return worth + SAME_CHILD_FIRST if decision_band(probability) == "same" else worth


SAME_CHILD_FIRST = 1e6  # above any possible pair's worth (a cluster of a thousand records on each side)


def finish_batch_queue(s: Session, run_id: str, assignments: dict[str, str]) -> int:
    """After a batch run's decisions: each record's cluster stored (what `registry export clusters` writes), and
    each open pair's queue cluster and priority. Returns how many pairs are open. Plain rows and tuples to the
    driver (`store.rows`): a million assignments and some 190,000 open pairs after a first run at a million."""
    store_clusters(s, run_id, assignments)
    child_of: dict[str, str] = dict(plain_rows(s, select(CaseRecord.record_id, CaseRecord.child_id)
                                                 .where(CaseRecord.status == "active")))
    sizes: dict[str, int] = {}
    for child in child_of.values():
        sizes[child] = sizes.get(child, 0) + 1
    sd = SuspectedDuplicate
    open_pairs = plain_rows(s, select(sd.pair_id, sd.record_a, sd.record_b, sd.probability, sd.priority,
                                      sd.cluster_key).where(sd.status == "open"))
    open_pairs, covered = one_question_per_two_children(s, open_pairs, child_of)
    keys = _queue_clusters([(a, b) for _, a, b, *_ in open_pairs], child_of)
    now = utcnow()
    changed = []
    for pair_id, a, b, probability, priority, cluster_key in open_pairs:
        if a in child_of and b in child_of:
            worth = pair_priority(probability, sizes[child_of[a]], sizes[child_of[b]])
            key = keys[child_of[a]]
            if (priority, cluster_key) != (worth, key):
                changed.append((worth, key, now, pair_id))
    update_rows(s, sd.__table__, ("priority", "cluster_key", "updated_at"), ("pair_id",),
                sorted(changed, key=lambda row: row[-1]))  # in the pairs' order: neighbours share pages
    update_rows(s, sd.__table__, ("status", "updated_at"), ("pair_id",), ((COVERED, now, p) for p in covered))
    return len(open_pairs)


def store_clusters(s: Session, run_id: str, assignments: dict[str, str]) -> int:
    """Each record's cluster as this run decided it, written as a difference from the last run's: a re-run on a
    million records changes a few thousand of them, and deleting and inserting all of them took seconds. A
    row's run_id is the run that last changed its cluster; records this run did not see (erased, out of
    matching) lose theirs. Returns how many rows were written."""
    table = ClusterAssignment.__table__
    stored = dict(plain_rows(s, select(ClusterAssignment.record_id, ClusterAssignment.cluster_id)))
    moved, new = [], []
    for record, cluster in assignments.items():  # one pass over a million records
        before = stored.pop(record, None)
        if before is None:
            new.append((record, cluster, run_id))
        elif before != cluster:
            moved.append((cluster, run_id, record))
    gone = sorted(stored)  # what is left: records this run did not see
    # In record order: the table's key (and the cluster ids, mostly the record's own) then grow at their end,
    # not at a random page of a million-row index each.
    new.sort()
    moved.sort(key=lambda row: row[-1])
    delete_rows(s, table, ("record_id",), ((r,) for r in gone))
    update_rows(s, table, ("cluster_id", "run_id"), ("record_id",), moved)
    insert_rows(s, table, ("record_id", "cluster_id", "run_id"), new)
    return len(gone) + len(moved) + len(new)


# A pair that leaves the queue because another pair of the same two children asks the same question (or a
# person already answered it for them): the next batch run that finds it again decides afresh.
COVERED = "covered"


def one_question_per_two_children(s: Session, open_pairs: Iterable[Any], child_of: dict[str, str]
                                  ) -> tuple[list, list[int]]:
    """The open pairs that stay in the queue, and those it no longer needs (to be marked `COVERED`).

    The question a reviewer answers is whether two children are one, not two records: once the batch's merges
    have made a child of several records, each of them may pair with the same other child, and the queue would
    ask the same question several times (a rejection of one pair left the others open, so it was asked again).
    So each pair of children keeps one open pair, its most probable (what the reviewer sees and decides on);
    and two children a person said are different (a rejected pair between their records, still as the person
    saw them) keep none, unless a pair between them is in the same-child band (held apart by a rule: it stays
    for a person to settle). "As the person saw them": no record of either child changed, moved in or was added
    since the decision (`store_batch_pairs` reopens the rejected pair itself when one of its two records
    changed)."""
    rejected = [(child_of[a], child_of[b], at) for a, b, at in s.execute(
        select(SuspectedDuplicate.record_a, SuspectedDuplicate.record_b, SuspectedDuplicate.updated_at)
        .where(SuspectedDuplicate.status == "rejected")) if a in child_of and b in child_of]
    changed_at: dict[str, Any] = {}
    for part in _chunks(sorted({c for x, y, _ in rejected for c in (x, y)})):
        changed_at.update(s.execute(select(CaseRecord.child_id, func.max(CaseRecord.updated_at))
                                    .where(CaseRecord.child_id.in_(part)).group_by(CaseRecord.child_id)).all())
    apart = {_children_key(x, y) for x, y, at in rejected
             if x != y and changed_at[x] <= at and changed_at[y] <= at}
    best: dict[tuple[str, str], Any] = {}
    covered: list[int] = []
    for row in open_pairs:
        pair_id, a, b, probability = row[:4]
        if a not in child_of or b not in child_of or child_of[a] == child_of[b]:
            best[("", str(pair_id))] = row  # not a question between two active children: left as it is
            continue
        key = _children_key(child_of[a], child_of[b])
        if key in apart and decision_band(probability) != "same":
            covered.append(pair_id)
            continue
        kept = best.get(key)
        if kept is None or (probability, -pair_id) > (kept[3], -kept[0]):
            best[key] = row
            if kept is not None:
                covered.append(kept[0])
        else:
            covered.append(pair_id)
    return list(best.values()), sorted(covered)


def _children_key(x: str, y: str) -> tuple[str, str]:
    return (x, y) if x <= y else (y, x)


def _queue_clusters(pairs: list[tuple[str, str]], child_of: dict[str, str]) -> dict[str, str]:
    """Each child's queue cluster key: children connected through open pairs share one (the smallest child id)."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for a, b in pairs:
        if a in child_of and b in child_of:
            ra, rb = root(child_of[a]), root(child_of[b])
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return {child: "K" + root(child) for a, b in pairs if a in child_of and b in child_of
            for child in (child_of[a], child_of[b])}


def queue_registration_matches(session: Session, record_id: str, matches: list) -> int:
    """A registration's real-time matches (registry.matching.lookup.Match) queued for review, source
    "registration". A rejected or stale pair comes back only when one record's identity changed."""
    if not matches:
        return 0
    digests = dict(session.execute(select(CaseRecord.record_id, CaseRecord.content_digest).where(
        CaseRecord.record_id.in_([record_id] + [m.record_id for m in matches]))).all())
    sizes = dict(session.execute(select(CaseRecord.child_id, func.count()).where(
        CaseRecord.child_id.in_([m.child_id for m in matches]), CaseRecord.status == "active")
        .group_by(CaseRecord.child_id)).all())
    others = [m.record_id for m in matches]
    known = {(p.record_a, p.record_b): p for p in session.scalars(select(SuspectedDuplicate).where(or_(
        (SuspectedDuplicate.record_a == record_id) & SuspectedDuplicate.record_b.in_(others),
        (SuspectedDuplicate.record_b == record_id) & SuspectedDuplicate.record_a.in_(others))))}
    now, new, queued = utcnow(), [], 0
    for m in matches:
        a, b = sorted((record_id, m.record_id))
        worth = pair_priority(m.probability, 1, sizes.get(m.child_id, 1))
        pair = known.get((a, b))
        if pair is None:
            new.append((a, b, m.probability, m.score.match_weight, "registration", "open", digests[a], digests[b],
                        worth, now, now))
        elif pair.status in ("rejected", "stale", COVERED) and \
                (pair.digest_a, pair.digest_b) != (digests[a], digests[b]):
            pair.status, pair.digest_a, pair.digest_b = "open", digests[a], digests[b]
            pair.probability, pair.match_weight, pair.priority = m.probability, m.score.match_weight, worth
            queued += 1
    # One statement for the new pairs, not an ORM object each (a registration is on the API's hot path).
    return queued + insert_rows(session, SuspectedDuplicate.__table__, _REGISTRATION_PAIR_COLUMNS, new)


_REGISTRATION_PAIR_COLUMNS = ("record_a", "record_b", "probability", "match_weight", "source", "status", "digest_a",
                              "digest_b", "priority", "created_at", "updated_at")
