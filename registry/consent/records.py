"""What a consent or legal-basis record is: its view and its validation. Pure: no database, no other wing.

A consent is purpose-bound (registration, deduplication, share, referral), given by a caregiver, a guardian or
the child, with the child's assent and age when asked, a date, an optional expiry and a reference to the
evidence (the signed form stays in the agency's file). Instead of consent, another legal basis (a legal
obligation, the child's vital interests) can be recorded with a written justification.
Withdrawal takes effect at once: the policy reads consents at every decision.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry.consent import policy
from registry.consent.policy import ANY_AGENCY, BASES, CONSENT_PURPOSES
from registry.errors import FieldError, InvalidInput
from registry.store.db import utcnow
from registry.store.tables.consent import ConsentRecord

GRANTORS = ("caregiver", "guardian", "child")
MIN_JUSTIFICATION = 20
_REF_OK = re.compile(r"^[\w\-./:#]{1,120}$")


@dataclass(frozen=True)
class ConsentView:
    """A consent record as the API and CLI show it, with its state today."""

    consent_id: str
    child_id: str
    purpose: str
    recipient: str | None
    basis: str
    grantor: str | None
    child_assent: bool | None
    child_age_at_assent: int | None
    given_on: str
    expires_on: str | None
    evidence_ref: str | None
    justification: str | None
    recorded_agency: str
    recorded_at: str
    withdrawn_at: str | None
    withdrawn_by: str | None
    status: str  # active | withdrawn | expired | pending

    @classmethod
    def of(cls, r: ConsentRecord, today: dt.date | None = None) -> ConsentView:
        fact = policy.ConsentFact(r.consent_id, r.purpose, r.recipient, r.basis, r.given_on, r.expires_on,
                                  r.withdrawn_at is not None)
        return cls(
            r.consent_id, r.child_id, r.purpose, r.recipient, r.basis, r.grantor, r.child_assent,
            r.child_age_at_assent, r.given_on.isoformat(), r.expires_on.isoformat() if r.expires_on else None,
            r.evidence_ref, r.justification, r.recorded_agency, r.recorded_at.isoformat(timespec="seconds"),
            r.withdrawn_at.isoformat(timespec="seconds") if r.withdrawn_at else None, r.withdrawn_by,
            fact.state(today or utcnow().date()),
        )


def _date(raw: Any, field: str, errors: list[FieldError], required: bool = False) -> dt.date | None:
    if raw is None or raw == "":
        if required:
            errors.append(FieldError(field, "is required"))
        return None
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        errors.append(FieldError(field, "must be a date YYYY-MM-DD"))
        return None


def validate_consent(raw: Mapping[str, Any], known_agencies: set[str], today: dt.date) -> dict[str, Any]:
    """Check a consent record's fields, all at once; the values ready for ConsentRecord."""
    errors: list[FieldError] = []
    purpose = raw.get("purpose")
    basis = raw.get("basis") or "consent"
    recipient = raw.get("recipient") or None
    grantor = raw.get("grantor") or None
    justification = (raw.get("justification") or "").strip() or None
    if purpose not in CONSENT_PURPOSES:
        errors.append(FieldError("purpose", f"must be one of {', '.join(CONSENT_PURPOSES)}"))
    if basis not in BASES:
        errors.append(FieldError("basis", f"must be one of {', '.join(BASES)}"))
    if purpose in ("share", "referral"):
        if not recipient:
            errors.append(FieldError("recipient", f"is required for {purpose}: the agency code"
                                     + (" or * for every agency" if purpose == "share" else "")))
        elif not (recipient in known_agencies or (recipient == ANY_AGENCY and purpose == "share")):
            errors.append(FieldError("recipient", "is not a known agency code"))
    elif recipient:
        errors.append(FieldError("recipient", f"is only for share and referral, not {purpose}"))
    if basis == "consent":
        if grantor not in GRANTORS:
            errors.append(FieldError("grantor", f"must be one of {', '.join(GRANTORS)}"))
    elif basis in BASES:
        if not justification or len(justification) < MIN_JUSTIFICATION:
            errors.append(FieldError("justification", f"a written justification of at least {MIN_JUSTIFICATION} "
                                     f"characters is required for {basis}"))
        if grantor is not None and grantor not in GRANTORS:
            errors.append(FieldError("grantor", f"must be one of {', '.join(GRANTORS)}"))
    assent = raw.get("child_assent")
    age = raw.get("child_age_at_assent")
    if assent is not None and not isinstance(assent, bool):
        errors.append(FieldError("child_assent", "must be true or false"))
    if assent is not None and age is None:
        errors.append(FieldError("child_age_at_assent", "is required when the child's assent is recorded"))
    if age is not None and (not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= 17):
        errors.append(FieldError("child_age_at_assent", "must be a whole number of years from 0 to 17"))
    given_on = _date(raw.get("given_on"), "given_on", errors, required=True)
    expires_on = _date(raw.get("expires_on"), "expires_on", errors)
    if given_on and given_on > today:
        errors.append(FieldError("given_on", "is in the future"))
    if given_on and expires_on and expires_on < given_on:
        errors.append(FieldError("expires_on", "is before given_on"))
    evidence = raw.get("evidence_ref") or None
    if evidence is not None and not _REF_OK.match(str(evidence)):
        errors.append(FieldError("evidence_ref", "must be up to 120 letters, digits or - . / : #"))
    if basis == "consent" and not evidence:
        errors.append(FieldError("evidence_ref", "is required for consent: where the signed form is kept"))
    if errors:
        raise InvalidInput(errors)
    return dict(purpose=purpose, recipient=recipient, basis=basis, grantor=grantor, child_assent=assent,
                child_age_at_assent=age, given_on=given_on, expires_on=expires_on, evidence_ref=evidence,
                justification=justification)
