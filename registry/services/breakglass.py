"""Break-glass: a user whose role allows it overrides a denial for one child, for a limited time.

The written reason is kept in `break_glass_grants`, never in the audit log; the log gets the reason code and
`break_glass=True`, for the grant and for every access made under it. Every grant stays flagged for the DPO
until a DPO reviews it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from registry.consent import policy
from registry.consent.policy import AccessRequest, Decision
from registry.errors import Conflict, FieldError, InvalidInput, NotFound
from registry.services.access import authorize, canonical_child, record_decision
from registry.services.actor import Actor
from registry.store.db import utcnow
from registry.store.tables.consent import BreakGlassGrant

if TYPE_CHECKING:
    from registry.services.context import Registry

REASON_CODES = ("imminent-risk", "medical-emergency", "missing-child", "family-reunification", "other")
DEFAULT_HOURS = 4
MIN_REASON = 20


@dataclass(frozen=True)
class GrantView:
    grant_id: str
    user_id: str
    role: str
    agency: str
    child_id: str
    reason_code: str
    reason: str
    granted_at: str
    expires_at: str
    flagged: bool  # not yet reviewed by a DPO

    @classmethod
    def of(cls, g: BreakGlassGrant) -> GrantView:
        return cls(g.grant_id, g.user_id, g.role, g.agency, g.child_id, g.reason_code, g.reason,
                   g.granted_at.isoformat(timespec="seconds"), g.expires_at.isoformat(timespec="seconds"),
                   g.reviewed_at is None)


def grant_hours(reg: Registry) -> int:
    return int(reg.settings.extra.get("break_glass_hours", DEFAULT_HOURS))


def break_glass(reg: Registry, actor: Actor, child_id: str, reason_code: str, reason: str) -> GrantView:
    """Open a time-limited override for one child; returns the grant (expires_at says until when)."""
    with reg.db.unit_of_work() as s:
        decision = authorize(reg, s, actor, policy.BREAK_GLASS, purpose="emergency", child_id=child_id,
                             audit=False)
        errors = []
        if reason_code not in REASON_CODES:
            errors.append(FieldError("reason_code", f"must be one of {', '.join(REASON_CODES)}"))
        if len((reason or "").strip()) < MIN_REASON:
            errors.append(FieldError("reason", f"a written reason of at least {MIN_REASON} characters is required"))
        if errors:
            raise InvalidInput(errors)
        canonical = canonical_child(s, child_id)
        assert canonical is not None  # authorize raised NotFound otherwise
        now = utcnow()
        grant = BreakGlassGrant(grant_id="G" + secrets.token_hex(8), user_id=actor.user_id, role=actor.role,
                                agency=actor.agency, child_id=canonical, reason_code=reason_code,
                                reason=reason.strip(), granted_at=now,
                                expires_at=now + dt.timedelta(hours=grant_hours(reg)))
        s.add(grant)
        request = AccessRequest(actor.user_id, actor.role, actor.agency, policy.BREAK_GLASS, "emergency", canonical)
        logged = Decision(True, f"{decision.reason_code}.{reason_code}", decision.legal_basis, break_glass=True)
        record_decision(reg, actor, request, logged, session=s, children=(canonical,),
                        outside_caseload=True)
        s.flush()
        return GrantView.of(grant)


def flagged_grants(reg: Registry, actor: Actor, include_reviewed: bool = False) -> list[GrantView]:
    """Break-glass grants for the DPO's review (unreviewed ones unless `include_reviewed`)."""
    with reg.db.unit_of_work() as s:
        authorize(reg, s, actor, policy.BREAK_GLASS_REVIEW, purpose="audit-review")
        q = select(BreakGlassGrant).order_by(BreakGlassGrant.granted_at)
        if not include_reviewed:
            q = q.where(BreakGlassGrant.reviewed_at.is_(None))
        return [GrantView.of(g) for g in s.scalars(q)]


def review_grant(reg: Registry, actor: Actor, grant_id: str) -> GrantView:
    with reg.db.unit_of_work() as s:
        grant = s.get(BreakGlassGrant, grant_id)
        if grant is None:
            raise NotFound("break-glass grant", grant_id)
        authorize(reg, s, actor, policy.BREAK_GLASS_REVIEW, purpose="audit-review", child_id=grant.child_id)
        if grant.reviewed_at is not None:
            raise Conflict("this grant was reviewed already", field="grant_id")
        grant.reviewed_at = utcnow()
        grant.reviewed_by = actor.user_id
        return GrantView.of(grant)
