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
from registry.errors import InvalidInput
from registry.identity import validate_identity
from registry.services import registration
from registry.services.access import authorize, canonical_child, record_decision
from registry.services.actor import Actor
from registry.services.context import Registry
from registry.store.tables.accounts import Agency


def register_child_as(reg: Registry, actor: Actor, raw: Mapping[str, Any]) -> registration.Registered:
    """Register (or update) a record for the caller's own agency; the institution defaults to it."""
    institution = raw.get("institution") or actor.agency

    def once() -> registration.Registered:
        with reg.db.unit_of_work() as s:
            decision = authorize(reg, s, actor, policy.REGISTER, purpose="registration", target_agency=institution,
                                 audit=False)
            identity = validate_identity({**raw, "institution": institution})
            result = registration.register_record(reg, s, identity)
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
