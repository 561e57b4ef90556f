"""Registering and reading children on behalf of a user: the policy first, then the registration service.

What a permitted reader sees also follows the decision: an agency reading its own caseload sees its own
records of the child (identity and local reference) and only that; the national unit (for deduplication
review), a DPO with a stated purpose, a recipient of a consent to share and a break-glass user see every record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry.consent import policy
from registry.consent.policy import AccessRequest
from registry.errors import InvalidInput, NotFound, Stale
from registry.identity import validate_identity
from registry.services import registration
from registry.services.access import authorize, canonical_child, record_decision
from registry.services.actor import Actor
from registry.services.context import Registry
from registry.store.tables.accounts import Agency


def register_child_as(reg: Registry, actor: Actor, raw: Mapping[str, Any]) -> registration.Registered:
    """Register a record for the caller's own agency; the institution defaults to it. The same record again is
    "unchanged"; the same reference with another identity is a Conflict: that is an update (`update_record_as`)."""
    institution = raw.get("institution") or actor.agency

    def once() -> registration.Registered:
        with reg.db.unit_of_work() as s:
            decision = authorize(reg, s, actor, policy.REGISTER, purpose="registration", target_agency=institution,
                                 audit=False)
            identity = validate_identity({**raw, "institution": institution})
            result = registration.register_record(reg, s, identity, update=False)
            request = AccessRequest(actor.user_id, actor.role, actor.agency, policy.REGISTER, "registration",
                                    result.child_id, institution)
            record_decision(reg, actor, request, decision, session=s, children=(result.child_id,))
            return result

    # The same record from two clients at once: the one that loses the race is run again and answers as second.
    return registration.retry_on_conflict(once)


def read_child_as(reg: Registry, actor: Actor, child_id: str,
                  purpose: str = policy.CASE_MANAGEMENT) -> registration.ChildView:
    with reg.db.unit_of_work() as s:
        decision = authorize(reg, s, actor, policy.READ, purpose=purpose, child_id=child_id)
    view = registration.get_child(reg, child_id)
    if decision.reason_code == "permit.own-caseload":
        # Minimum disclosure: the agency's own records; other agencies' references stay theirs.
        records = [r for r in view.records if r["institution"] == actor.agency]
        return registration.ChildView(view.child_id, view.status, view.merged_into, records)
    return view


@dataclass(frozen=True)
class ShareReceipt:
    """What a holding agency gets when it shares a child with another agency: whom to pass the case to (their
    focal point) and on which legal basis. The recipient may read the child from now on (consent to share)."""

    child_id: str
    recipient: str
    recipient_name: str
    focal_point_role: str
    purpose: str
    legal_basis: str


def share_child(reg: Registry, actor: Actor, child_id: str, recipient: str,
                purpose: str = "share") -> ShareReceipt:
    """Share a child of the actor's caseload with `recipient`, as the child's consent to share (or to refer)
    with that agency allows. The decision and its legal basis go to the audit log as a "share" event."""
    if purpose not in ("share", "referral"):
        raise InvalidInput.one("purpose", "must be share or referral")
    with reg.db.unit_of_work() as s:
        agency = s.get(Agency, recipient)
        if agency is None:
            raise InvalidInput.one("recipient", f"no agency {recipient}")
        decision = authorize(reg, s, actor, policy.SHARE, purpose=purpose, child_id=child_id,
                             target_agency=recipient)
        return ShareReceipt(canonical_child(s, child_id) or child_id, recipient, agency.name,
                            agency.focal_point_role, purpose, decision.legal_basis)


@dataclass(frozen=True)
class RecordView:
    """One of the caller's agency's own records, with its version for an update (If-Match)."""

    child_id: str
    institution: str
    source_ref: str
    identity: dict[str, Any]
    etag: str  # opaque: derived from the keyed content digest, says nothing of the identity


def _etag(record: Any) -> str:
    return '"' + record.content_digest[:32] + '"'


def _own_record(s: Any, actor: Actor, source_ref: str) -> Any:
    record = registration.find_record(s, actor.agency, source_ref)
    if record is None or record.status != "active":
        raise NotFound("record", source_ref)
    return record


def read_record_as(reg: Registry, actor: Actor, source_ref: str) -> RecordView:
    """The caller's agency's record under its own reference, to update it."""
    with reg.db.unit_of_work() as s:
        record = _own_record(s, actor, source_ref)
        authorize(reg, s, actor, policy.READ, purpose=policy.CASE_MANAGEMENT, child_id=record.child_id)
        identity = reg.vault.open(s, record.record_id)
        return RecordView(record.child_id, record.institution, record.source_ref,
                          {k: v for k, v in identity.to_dict().items() if v is not None}, _etag(record))


def update_record_as(reg: Registry, actor: Actor, source_ref: str, raw: Mapping[str, Any],
                     if_match: str | None) -> RecordView:
    """Change the identity of one of the caller's agency's records: only with the version it was read at
    (If-Match), so that two people editing one record cannot overwrite each other unseen."""
    if not if_match:
        raise Stale(required=True)

    def once() -> RecordView:
        with reg.db.unit_of_work() as s:
            record = _own_record(s, actor, source_ref)
            decision = authorize(reg, s, actor, policy.REGISTER, purpose="registration",
                                 target_agency=actor.agency, audit=False)
            if if_match.strip() not in (_etag(record), "W/" + _etag(record)):
                raise Stale()
            identity = validate_identity({**raw, "institution": actor.agency, "source_ref": source_ref})
            result = registration.register_record(reg, s, identity, record, known=True)
            request = AccessRequest(actor.user_id, actor.role, actor.agency, policy.REGISTER, "registration",
                                    result.child_id, actor.agency)
            record_decision(reg, actor, request, decision, session=s, children=(result.child_id,))
            s.flush()
            return RecordView(result.child_id, actor.agency, source_ref,
                              {k: v for k, v in identity.to_dict().items() if v is not None}, _etag(record))

    return registration.retry_on_conflict(once)
