"""The registry's core tables: children (by pseudonym), case records (pointers), the vault; and
`resolve_child`, which follows a pseudonym through merges.

The other tables are in `registry.store.tables` (one module per wing that writes them); they are imported
at the bottom so that `Base.metadata` -- and with it Alembic -- sees every table.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from registry.errors import NotFound
from registry.store.db import Base, utcnow
from registry.store.pseudonym import parse_pseudonym


class Child(Base):
    """A child known to the registry, under its pseudonym. No personal data in this table."""

    __tablename__ = "children"

    child_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | merged | erased
    # Indexed: every policy check follows merges (which pseudonyms were merged into this one).
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("children.child_id"), default=None, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    records: Mapped[list[CaseRecord]] = relationship(back_populates="child", foreign_keys="CaseRecord.child_id")


class CaseRecord(Base):
    """A case pointer: one institution holds a case for the child under its local reference.

    Each submitted identity is one record; deduplication and merges attach records to one child.
    `content_digest` is a keyed fingerprint of the identity as submitted, so an import run twice is a no-op.
    """

    __tablename__ = "case_records"
    __table_args__ = (UniqueConstraint("institution", "source_ref", name="uq_case_records_institution_ref"),)

    record_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    child_id: Mapped[str] = mapped_column(ForeignKey("children.child_id"), index=True)
    institution: Mapped[str] = mapped_column(String(40), index=True)
    source_ref: Mapped[str] = mapped_column(String(80))
    content_digest: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | erased
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    child: Mapped[Child] = relationship(back_populates="records", foreign_keys=[child_id])


class VaultEntry(Base):
    """One record's identity, sealed. See registry.identity.vault for exactly what is encrypted how."""

    __tablename__ = "vault_entries"

    record_id: Mapped[str] = mapped_column(ForeignKey("case_records.record_id"), primary_key=True)
    master_key_version: Mapped[int | None] = mapped_column()
    wrapped_data_key: Mapped[bytes | None] = mapped_column(LargeBinary)  # None once erased
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)  # nonce || AEAD ciphertext
    sealed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[dt.datetime | None] = mapped_column(default=None)


Index("ix_vault_entries_master_key_version", VaultEntry.master_key_version)


def resolve_child(session: Session, child_id: str) -> Child:
    """The child behind a pseudonym, following merges to the current one."""
    try:
        child_id = parse_pseudonym(child_id)
    except ValueError:
        raise NotFound("child", child_id) from None
    child = session.get(Child, child_id)
    seen = set()
    while child is not None and child.status == "merged" and child.merged_into and child.child_id not in seen:
        seen.add(child.child_id)
        child = session.get(Child, child.merged_into)
    if child is None:
        raise NotFound("child", child_id)
    return child


# Tables owned by other subpackages, imported so that Base.metadata is complete.
from registry.store import tables  # noqa: E402,F401  (every table, for Base.metadata)
