"""Enforcing the policy: gather the facts from the database, ask `policy.decide`, log, raise on deny.

Every service path that touches a child calls `authorize(...)` inside its unit of work:

    with reg.db.unit_of_work() as s:
        decision = authorize(reg, s, actor, READ, purpose="case-management", child_id=child_id)
        ...  # do the permitted work

A denial is written to the audit log in its own transaction (so it stays logged although the caller's
transaction rolls back) and raised as `AccessDenied` (HTTP 403 with the reason code). A permit is written in
the caller's transaction, so it commits with the work; pass `audit=False` and call `record_decision` later
when the outcome (e.g. a lookup's match class) or the children concerned are only known afterwards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Connection, Row, bindparam, literal, null, or_, select, union_all
from sqlalchemy.orm import Session

from registry.audit.event import TOKEN, AuditEvent
from registry.consent import policy
from registry.consent.policy import AccessRequest, ConsentFact, Decision, Facts
from registry.consent.roles import CASELOAD_ROLES
from registry.errors import NotFound
from registry.services.actor import SYSTEM, Actor
from registry.services.context import Registry
from registry.store.db import utcnow
from registry.store.models import CaseRecord, Child, resolve_child
from registry.store.tables.consent import BreakGlassGrant, ConsentRecord

# The statements of a lookup's checks, built once (building a statement per call cost more than running it).
_children, _records = Child.__table__.c, CaseRecord.__table__.c
_consents, _grants = ConsentRecord.__table__.c, BreakGlassGrant.__table__.c
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_CHUNK = 500  # ids a statement: well under SQLite's limit on bound parameters


def _with_merged(start):
    """`start` (rows of children) and every pseudonym merged into them, at any depth, in one statement."""
    found = start.cte("found", recursive=True)
    deeper = Child.__table__.alias("deeper").c
    found = found.union(select(deeper.child_id, deeper.status, deeper.merged_into)
                        .where(deeper.merged_into == found.c.child_id))
    return select(found.c.child_id, found.c.status, found.c.merged_into)


_child_row = select(_children.child_id, _children.status, _children.merged_into)
# The children asked about and every pseudonym merged into them.
_FAMILY_ROWS = _with_merged(_child_row.where(_children.child_id.in_(_IDS)))
_CHILDREN = _child_row.where(_children.child_id.in_(_IDS))
_CONSENT_COLUMNS = (_consents.child_id, _consents.consent_id, _consents.purpose, _consents.recipient,
                    _consents.basis, _consents.given_on, _consents.expires_on, _consents.withdrawn_at)
_CONSENT_FACTS = select(*_CONSENT_COLUMNS).where(_consents.child_id.in_(_IDS))
# What the policy decides on about a family, in one read: its consents, the agencies holding its case, and
# the asker's live break-glass grants (a statement each was a third of a lookup's reads). The third column is
# the consent's id, the holding agency or the grant's id, by kind.
_FACTS = union_all(
    select(literal("consent").label("kind"), *_CONSENT_COLUMNS).where(_consents.child_id.in_(_IDS)),
    select(literal("held"), _records.child_id, _records.institution, *[null()] * 6)
    .where(_records.child_id.in_(_IDS), _records.status == "active"),
    select(literal("glass"), _grants.child_id, _grants.grant_id, *[null()] * 6)
    .where(_grants.user_id == bindparam("user_id"), _grants.child_id.in_(_IDS), _grants.expires_at > bindparam("now")))
# Children with a consent to deduplication that ended (withdrawn, or past its last day) and none in force on
# the child itself: only such a child's family can be out of matching (read once per batch run).
_in_force = ConsentRecord.__table__.alias("in_force").c
_ENDED_DEDUPLICATION = select(_consents.child_id).where(
    _consents.purpose == "deduplication",
    or_(_consents.withdrawn_at.is_not(None), _consents.expires_on < bindparam("today")),
    ~select(_in_force.consent_id).where(
        _in_force.child_id == _consents.child_id, _in_force.purpose == "deduplication",
        _in_force.withdrawn_at.is_(None), _in_force.given_on <= bindparam("today"),
        or_(_in_force.expires_on.is_(None), _in_force.expires_on >= bindparam("today"))).exists()).distinct()


class AccessDenied(Exception):
    """The policy decision point said no. Carries the decision (reason code) for the 403 answer."""

    def __init__(self, decision: Decision):
        self.decision = decision
        super().__init__(decision.reason_code)


class QuotaExceeded(AccessDenied):
    """Too many lookups in the sliding window: HTTP 429 with Retry-After."""

    def __init__(self, decision: Decision, retry_after: int):
        super().__init__(decision)
        self.retry_after = retry_after


def canonical_child(session: Session, child_id: str) -> str | None:
    """The current pseudonym behind `child_id` (following merges), or None when there is no such child."""
    try:
        return resolve_child(session, child_id).child_id
    except NotFound:
        return None


def child_family(session: Session, child_id: str) -> set[str]:
    """The child and every pseudonym merged into it: their consents and cases are the child's."""
    ids, todo = {child_id}, [child_id]
    while todo:
        merged = set(session.scalars(select(Child.child_id).where(Child.merged_into.in_(todo)))) - ids
        ids |= merged
        todo = list(merged)
    return ids


def consent_fact(r: ConsentRecord | Row) -> ConsentFact:
    """From a stored consent, or a row with its columns."""
    return ConsentFact(r.consent_id, r.purpose, r.recipient, r.basis, r.given_on, r.expires_on,
                       r.withdrawn_at is not None)


def consent_facts(session: Session, child_ids: set[str]) -> tuple[ConsentFact, ...]:
    rows = session.scalars(select(ConsentRecord).where(ConsentRecord.child_id.in_(child_ids)))
    return tuple(consent_fact(r) for r in rows)


def holders(session: Session, child_ids: set[str]) -> frozenset[str]:
    return frozenset(session.scalars(
        select(CaseRecord.institution).where(CaseRecord.child_id.in_(child_ids), CaseRecord.status == "active")
    ))


def gather_facts(session: Session, actor: Actor, child_id: str | None, now: dt.datetime,
                 quota_exceeded: bool = False) -> Facts:
    today = now.date()
    if child_id is None:
        return Facts(today=today, quota_exceeded=quota_exceeded)
    family = child_family(session, child_id)
    glass = session.scalars(select(BreakGlassGrant.grant_id).where(
        BreakGlassGrant.user_id == actor.user_id, BreakGlassGrant.child_id.in_(family),
        BreakGlassGrant.expires_at > now)).first() is not None
    return Facts(today=today, child_exists=True, holders=holders(session, family),
                 consents=consent_facts(session, family), break_glass=glass, quota_exceeded=quota_exceeded)


def _token_or(value: str | None, fallback: str) -> str:
    return value if value and TOKEN.fullmatch(value) else fallback


def decision_event(
    actor: Actor, request: AccessRequest, decision: Decision, *, outcome: str | None = None,
    children: tuple[str, ...] = (), query_fingerprint: str | None = None, outside_caseload: bool = False,
) -> AuditEvent:
    """One decision as an audit event: who, what, why (purpose, legal basis), the reason code, outcome."""
    return AuditEvent(
        action=request.action,
        outcome=outcome or ("success" if decision.permit else "denied"),
        user_id=actor.user_id,
        role=actor.role,
        agency=actor.agency,
        # Only a declared, known purpose is written as given: free text never reaches the log.
        purpose=request.purpose if request.purpose in policy.PURPOSES else "undeclared",
        legal_basis=_token_or(decision.legal_basis, "none"),
        decision="permit" if decision.permit else "deny",
        reason_code=decision.reason_code,
        children=children,
        query_fingerprint=query_fingerprint,
        break_glass=decision.break_glass,
        outside_caseload=outside_caseload,
    )


def record_decision(
    reg: Registry, actor: Actor, request: AccessRequest, decision: Decision, *, outcome: str | None = None,
    session: Session | None = None, children: tuple[str, ...] = (), query_fingerprint: str | None = None,
    outside_caseload: bool = False,
) -> None:
    """Write one decision to the audit log (in `session`'s transaction when given)."""
    reg.audit.record(decision_event(actor, request, decision, outcome=outcome, children=children,
                                    query_fingerprint=query_fingerprint, outside_caseload=outside_caseload),
                     session=session)


@dataclass(frozen=True)
class Checked:
    """One decision with what the audit event needs about it."""

    request: AccessRequest
    decision: Decision
    children: tuple[str, ...]
    outside_caseload: bool
    facts: Facts | None = None  # what it was decided on

    @property
    def holders(self) -> frozenset[str]:
        """The agencies holding the child's case, as the decision read them."""
        return frozenset() if self.facts is None else self.facts.holders


def check(
    reg: Registry, session: Session, actor: Actor, action: str, *, purpose: str,
    child_id: str | None = None, target_agency: str | None = None, quota_exceeded: bool = False,
    now: dt.datetime | None = None,
) -> Checked:
    """Gather the facts and decide, without logging or raising (the caller logs with `record_checked`)."""
    now = now or utcnow()
    canonical = canonical_child(session, child_id) if child_id is not None else None
    if child_id is not None and canonical is None:
        facts = Facts(today=now.date(), child_exists=False)
    else:
        facts = gather_facts(session, actor, canonical, now, quota_exceeded)
    return _decided(actor, action, purpose, child_id, canonical, facts, target_agency)


def check_children(session: Session, actor: Actor, action: str, *, purpose: str, child_ids: list[str],
                   now: dt.datetime | None = None) -> dict[str, Checked]:
    """`check` for several children at once (a lookup's candidates): the same facts and decisions, gathered
    with a few queries for all of them instead of several per child."""
    now = now or utcnow()
    if not child_ids:
        return {}
    conn = session.connection()  # Core statements built once: the ORM's per-statement work cost more here
    rows = _read(conn, _FAMILY_ROWS, child_ids)
    asked = set(child_ids)
    current = {c for c, status, _ in rows if c in asked and status != "merged"}
    canonical = {c: c if c in current else canonical_child(session, c) for c in child_ids}
    families = _families(conn, {c for c in canonical.values() if c},
                         [(c, into) for c, _, into in rows if into is not None], asked)
    everyone = list(set().union(*families.values())) if families else []
    glass: set[str] = set()
    held: dict[str, set[str]] = {}
    consents: list[tuple[str, ConsentFact]] = []
    if everyone:
        for r in conn.execute(_FACTS, {"user_id": actor.user_id, "ids": everyone, "now": now}):
            if r.kind == "consent":
                consents.append((r.child_id, consent_fact(r)))  # type: ignore[arg-type]
            elif r.kind == "held":
                held.setdefault(r.child_id, set()).add(r[2])  # the holding agency
            else:
                glass.add(r.child_id)
    out = {}
    for child_id, canon in canonical.items():
        if canon is None:
            facts = Facts(today=now.date(), child_exists=False)
        else:
            family = families[canon]
            facts = Facts(today=now.date(), child_exists=True,
                          holders=frozenset(i for c in family for i in held.get(c, ())),
                          consents=tuple(f for c, f in consents if c in family),
                          break_glass=bool(glass & family))
        out[child_id] = _decided(actor, action, purpose, child_id, canon, facts, None)
    return out


def may_be_matched(checked: Checked) -> bool:
    """`child_may_be_matched` on the facts a check gathered already."""
    consents = checked.facts.consents if checked.facts else ()
    return not policy.excluded_from_deduplication(Facts(today=utcnow().date(), consents=consents))


def _families(conn: Connection, child_ids: set[str], merged: list[tuple[str, str]],
              read_for: set[str]) -> dict[str, set[str]]:
    """Each child with every pseudonym merged into it, for many children at once (see `child_family`).
    `merged`: the (child, merged into) pairs already read, at every depth, for the children in `read_for`."""
    if child_ids - read_for:
        merged = merged + [(c, into) for c, _, into in _read(conn, _FAMILY_ROWS, child_ids - read_for)
                           if into is not None]
    families = {c: {c} for c in child_ids}
    root = {c: c for c in child_ids}
    while merged:  # a pseudonym joins its survivor's family once the survivor has joined one
        waiting = [(child, into) for child, into in merged if child not in root and into not in root]
        for child, into in merged:
            if child not in root and into in root:
                root[child] = root[into]
                families[root[into]].add(child)
        if len(waiting) == len(merged):
            break  # the rest belong to no family asked about
        merged = waiting
    return families


def _read(conn: Connection, statement, ids) -> list[Row]:
    """A statement on `ids` (its expanding parameter), a chunk of them at a time."""
    ids = sorted(ids)
    return [row for i in range(0, len(ids), _CHUNK) for row in conn.execute(statement, {"ids": ids[i:i + _CHUNK]})]


def _decided(actor: Actor, action: str, purpose: str, child_id: str | None, canonical: str | None, facts: Facts,
             target_agency: str | None) -> Checked:
    request = AccessRequest(actor.user_id, actor.role, actor.agency, action, purpose,
                            canonical or child_id, target_agency)
    outside = bool(canonical) and actor.role in CASELOAD_ROLES and actor.agency not in facts.holders
    return Checked(request, policy.decide(request, facts), (canonical,) if canonical else (), outside, facts)


def checked_event(actor: Actor, checked: Checked, outcome: str | None = None) -> AuditEvent:
    return decision_event(actor, checked.request, checked.decision, outcome=outcome, children=checked.children,
                          outside_caseload=checked.outside_caseload)


def record_checked(reg: Registry, actor: Actor, checked: Checked, session: Session | None = None,
                   outcome: str | None = None) -> None:
    reg.audit.record(checked_event(actor, checked, outcome), session=session)


def authorize(
    reg: Registry, session: Session, actor: Actor, action: str, *, purpose: str,
    child_id: str | None = None, target_agency: str | None = None, audit: bool = True,
    quota_exceeded: bool = False, now: dt.datetime | None = None,
) -> Decision:
    """Decide, log and enforce one request. Raises AccessDenied (or NotFound for an unknown child).

    Call it before the unit of work writes anything: a denial is logged in a transaction of its own.
    """
    checked = check(reg, session, actor, action, purpose=purpose, child_id=child_id,
                    target_agency=target_agency, quota_exceeded=quota_exceeded, now=now)
    decision = checked.decision
    if not decision.permit:
        # Own transaction: the caller rolls back on the exception, the denial must stay in the log.
        record_checked(reg, actor, checked)
        if decision.reason_code == "deny.unknown-child":
            raise NotFound("child", child_id or "")
        raise AccessDenied(decision)
    if audit:
        record_checked(reg, actor, checked, session=session)
    return decision


def child_may_be_matched(session: Session, child_id: str) -> bool:
    """False when the child's consent to deduplication was withdrawn (or ran out): keep it out of matching."""
    facts = Facts(today=utcnow().date(), consents=consent_facts(session, child_family(session, child_id)))
    return not policy.excluded_from_deduplication(facts)


def excluded_from_matching(session: Session) -> set[str]:
    """Every child the matcher must leave out of matching for other agencies (see `child_may_be_matched`).

    Merged pseudonyms count as one child: if the child is out, every pseudonym of it is out. For a batch run;
    a lookup or a registration asks about its candidates only (`check_children`, `out_of_matching`). A few
    statements whatever the number of consents: only the families of children whose consent to
    deduplication ended are read, all at once."""
    today = utcnow().date()
    conn = session.connection()
    return _out_of_matching(conn, set(conn.scalars(_ENDED_DEDUPLICATION, {"today": today})), today)


def out_of_matching(session: Session, child_ids: set[str]) -> set[str]:
    """Of these children (a registration's matches), those out of matching for other agencies, with every
    pseudonym of them: the same decision as `excluded_from_matching`, for a few children."""
    return _out_of_matching(session.connection(), child_ids, utcnow().date())


def _out_of_matching(conn: Connection, child_ids: set[str], today: dt.date) -> set[str]:
    """Of the families of these children, every pseudonym of those out of matching."""
    if not child_ids:
        return set()
    families = _families(conn, _current_children(conn, child_ids), [], set())
    consents: dict[str, list[ConsentFact]] = {}
    for r in _read(conn, _CONSENT_FACTS, set().union(*families.values())):
        consents.setdefault(r.child_id, []).append(consent_fact(r))  # type: ignore[arg-type]
    excluded: set[str] = set()
    for family in families.values():
        facts = Facts(today=today, consents=tuple(f for c in family for f in consents.get(c, ())))
        if policy.excluded_from_deduplication(facts):
            excluded |= family
    return excluded


def _current_children(conn: Connection, child_ids: set[str]) -> set[str]:
    """The current pseudonyms behind these children (following merges, as `canonical_child`), at once."""
    current, todo, seen = set(), set(child_ids), set(child_ids)
    while todo:
        step = set()
        for child, status, into in _read(conn, _CHILDREN, todo):
            if status != "merged" or into is None:
                current.add(child)
            elif into not in seen:
                step.add(into)
                seen.add(into)
        todo = step
    return current


def record_admin(reg: Registry, action: str, children: tuple[str, ...] = (), session: Session | None = None,
                 actor: Actor = SYSTEM) -> None:
    """Audit an administrator's action (import, erasure, key rotation, batch run): pseudonyms only, like every
    other event. `actor` is the system administrator at the machine unless a signed-in user acted."""
    reg.audit.record(AuditEvent(action=action, outcome="success", user_id=actor.user_id, role=actor.role,
                                agency=actor.agency, purpose="administration", legal_basis="legal-obligation",
                                decision="permit", reason_code="permit.system-admin", children=children),
                     session=session)
