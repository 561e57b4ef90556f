"""Consent and legal-basis records: record, list, withdraw. Every call passes the policy decision point.

What a record is and how it is validated: `registry.consent.records`. Withdrawal takes effect at once: the
policy reads consents at every decision.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from registry import fhir
from registry.consent import policy
from registry.consent.fhir import to_fhir_consent
from registry.consent.records import GRANTORS, ConsentView, validate_consent
from registry.errors import Conflict, InvalidInput, NotFound
from registry.services.access import authorize, canonical_child, child_family
from registry.services.actor import Actor
from registry.services.context import Registry
from registry.store.db import utcnow
from registry.store.tables.accounts import Agency
from registry.store.tables.consent import ConsentRecord


def record_consent(reg: Registry, actor: Actor, child_id: str, raw: Mapping[str, Any],
                   purpose: str = policy.CASE_MANAGEMENT) -> ConsentView:
    with reg.db.unit_of_work() as s:
        authorize(reg, s, actor, policy.CONSENT_RECORD, purpose=purpose, child_id=child_id)
        known = set(s.scalars(select(Agency.code)))
        values = validate_consent(raw, known, utcnow().date())
        row = ConsentRecord(consent_id="C" + secrets.token_hex(8), child_id=canonical_child(s, child_id),
                            recorded_by=actor.user_id, recorded_agency=actor.agency, **values)
        s.add(row)
        s.flush()
        return ConsentView.of(row)


def list_consents(reg: Registry, actor: Actor, child_id: str,
                  purpose: str = policy.CASE_MANAGEMENT) -> list[ConsentView]:
    with reg.db.unit_of_work() as s:
        authorize(reg, s, actor, policy.CONSENT_READ, purpose=purpose, child_id=child_id)
        family = child_family(s, canonical_child(s, child_id) or child_id)
        rows = s.scalars(select(ConsentRecord).where(ConsentRecord.child_id.in_(family))
                         .order_by(ConsentRecord.recorded_at))
        return [ConsentView.of(r) for r in rows]


def consents_as_fhir(reg: Registry, actor: Actor, child_id: str,
                     purpose: str = policy.CASE_MANAGEMENT) -> dict[str, Any]:
    """The child's consents as a FHIR R5 Bundle of Consent resources."""
    return fhir.bundle([to_fhir_consent(v) for v in list_consents(reg, actor, child_id, purpose)])


def withdraw_consent(reg: Registry, actor: Actor, consent_id: str, withdrawn_by: str,
                     purpose: str = policy.CASE_MANAGEMENT) -> ConsentView:
    """Withdraw a consent now. From this moment the policy no longer counts it."""
    if withdrawn_by not in GRANTORS:
        raise InvalidInput.one("withdrawn_by", f"must be one of {', '.join(GRANTORS)}")
    with reg.db.unit_of_work() as s:
        row = s.get(ConsentRecord, consent_id)
        if row is None:
            raise NotFound("consent", consent_id)
        authorize(reg, s, actor, policy.CONSENT_WITHDRAW, purpose=purpose, child_id=row.child_id)
        if row.withdrawn_at is not None:
            raise Conflict("this consent was withdrawn already", field="consent_id")
        row.withdrawn_at = utcnow()
        row.withdrawn_by = withdrawn_by
        row.withdrawal_recorded_by = actor.user_id
        return ConsentView.of(row)


def get_consent_record(reg: Registry, consent_id: str) -> ConsentRecord:
    """For exports run by an operator (CLI): the stored record as is."""
    with reg.db.unit_of_work() as s:
        row = s.get(ConsentRecord, consent_id)
        if row is None:
            raise NotFound("consent", consent_id)
        return row
