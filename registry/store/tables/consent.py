"""The consent package's tables: consent and legal-basis records, break-glass grants, lookup quota counters.

No identity here: consent records point at the child's pseudonym; the grantor is a relationship (caregiver,
guardian, the child), never a name. The written justifications and break-glass reasons are free text kept
here, beside the decision they justify, and never copied into the audit log.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.db import Base, utcnow


class ConsentRecord(Base):
    """One purpose-bound consent (or other legal basis) for one child. Exports as a FHIR R5 Consent."""

    __tablename__ = "consents"

    consent_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    child_id: Mapped[str] = mapped_column(ForeignKey("children.child_id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # registration | deduplication | share | referral
    recipient: Mapped[str | None] = mapped_column(String(40), default=None)  # agency code, or * (share/referral)
    basis: Mapped[str] = mapped_column(String(20), default="consent")  # consent | legal-obligation | vital-interests
    grantor: Mapped[str | None] = mapped_column(String(20), default=None)  # caregiver | guardian | child
    child_assent: Mapped[bool | None] = mapped_column(default=None)  # the child's own assent, when asked
    child_age_at_assent: Mapped[int | None] = mapped_column(default=None)
    given_on: Mapped[dt.date] = mapped_column()
    expires_on: Mapped[dt.date | None] = mapped_column(default=None)  # valid through this day
    evidence_ref: Mapped[str | None] = mapped_column(String(120), default=None)  # where the signed form is
    justification: Mapped[str | None] = mapped_column(Text, default=None)  # required for other legal bases
    recorded_by: Mapped[str] = mapped_column(String(32))  # user id
    recorded_agency: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(default=None)  # effective at once
    withdrawn_by: Mapped[str | None] = mapped_column(String(20), default=None)  # caregiver | guardian | child
    withdrawal_recorded_by: Mapped[str | None] = mapped_column(String(32), default=None)  # user id


class BreakGlassGrant(Base):
    """A user's emergency override of a denial, for one child, for a limited time; flagged for the DPO."""

    __tablename__ = "break_glass_grants"

    grant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    role: Mapped[str] = mapped_column(String(32))
    agency: Mapped[str] = mapped_column(String(40))
    child_id: Mapped[str] = mapped_column(ForeignKey("children.child_id"), index=True)
    reason_code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)  # the written reason: here, never in the audit log
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(default=None)  # None = still flagged for the DPO
    reviewed_by: Mapped[str | None] = mapped_column(String(32), default=None)


class LookupQuotaHit(Base):
    """One counted lookup; the quota is a sliding window over these rows, so it holds across processes."""

    __tablename__ = "lookup_quota_hits"

    hit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(32))
    agency: Mapped[str] = mapped_column(String(40))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


Index("ix_lookup_quota_hits_user_at", LookupQuotaHit.user_id, LookupQuotaHit.at)
Index("ix_lookup_quota_hits_agency_at", LookupQuotaHit.agency, LookupQuotaHit.at)
