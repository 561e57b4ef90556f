"""The audit log's tables: entries (leaves), the children each entry concerns, and signed checkpoints.

`audit_events.entry` holds the canonical bytes the leaf hash covers; they are the record. The other columns
of `audit_events` and `audit_event_children` are copies for querying (by user, agency, child, action, purpose,
outcome, time); `verify_log` checks that they agree with the bytes.
The leaf index is the primary key: two appenders cannot both write the same index (see `log.py`).
`audit_pending` holds events written inside a caller's transaction (they commit with the action) until the
log's writer gives them their place in the chain, moments later (see `log.py`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.db import Base

TOKEN_LEN = 128


class AuditEventRow(Base):
    __tablename__ = "audit_events"

    leaf_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    entry: Mapped[bytes] = mapped_column(LargeBinary)  # canonical entry bytes (event.entry_bytes)
    # Query columns, copied from the entry.
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[str] = mapped_column(String(TOKEN_LEN))
    role: Mapped[str] = mapped_column(String(TOKEN_LEN))
    agency: Mapped[str] = mapped_column(String(TOKEN_LEN))
    action: Mapped[str] = mapped_column(String(TOKEN_LEN), index=True)
    purpose: Mapped[str] = mapped_column(String(TOKEN_LEN), index=True)
    outcome: Mapped[str] = mapped_column(String(TOKEN_LEN), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    query_fingerprint: Mapped[str | None] = mapped_column(String(TOKEN_LEN), index=True)
    break_glass: Mapped[bool] = mapped_column(Boolean)
    outside_caseload: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_audit_events_user_at", "user_id", "at"),
        Index("ix_audit_events_agency_at", "agency", "at"),
    )


class AuditEventChildRow(Base):
    __tablename__ = "audit_event_children"

    leaf_index: Mapped[int] = mapped_column(ForeignKey("audit_events.leaf_index"), primary_key=True)
    child: Mapped[str] = mapped_column(String(TOKEN_LEN), primary_key=True, index=True)


class AuditCheckpointRow(Base):
    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    origin: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text)  # the signed note: what verification trusts
    # The tree's frontier at this size (concatenated 32-byte hashes), so the next checkpoint starts from here.
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class AuditPendingRow(Base):
    """An event committed with its caller's action, not yet chained: the writer moves it into `audit_events`."""

    __tablename__ = "audit_pending"

    pending_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event: Mapped[str] = mapped_column(Text)  # the event's JSON (AuditEvent.to_dict): tokens only, no identity


AUDIT_TABLES = [AuditEventRow.__table__, AuditEventChildRow.__table__, AuditCheckpointRow.__table__,
                AuditPendingRow.__table__]
