"""The linkage index table: one row of keyed encodings per case record (see registry.matching.encoding)."""

from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.db import Base

TOKEN = String(16)


class LinkageEntry(Base):
    __tablename__ = "linkage_entries"

    record_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    child_id: Mapped[str] = mapped_column(String(20), index=True)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(1))
    governorate: Mapped[str | None] = mapped_column(String(8))
    given_key: Mapped[str | None] = mapped_column(TOKEN)
    given_skel: Mapped[str | None] = mapped_column(TOKEN)
    given_known: Mapped[bool] = mapped_column(Boolean, default=False)
    given_grams: Mapped[str] = mapped_column(Text, default="")  # space-separated integers
    father_skel: Mapped[str | None] = mapped_column(TOKEN)
    family_skel: Mapped[str | None] = mapped_column(TOKEN)
    chain_keys: Mapped[str] = mapped_column(Text, default="")  # space-separated tokens
    chain_skels: Mapped[str] = mapped_column(Text, default="")
    mother_key: Mapped[str | None] = mapped_column(TOKEN)
    mother_skel: Mapped[str | None] = mapped_column(TOKEN)
    dob_full: Mapped[str | None] = mapped_column(TOKEN)
    dob_ym: Mapped[str | None] = mapped_column(TOKEN)
    dob_swap: Mapped[str | None] = mapped_column(TOKEN)
    dob_md: Mapped[str | None] = mapped_column(TOKEN)
    nid: Mapped[str | None] = mapped_column(TOKEN, index=True)
    encoding_version: Mapped[int] = mapped_column(Integer, default=1)


# The real-time lookup's candidate keys (the same rules as batch blocking; see registry.matching.blocking).
Index("ix_linkage_given_year", LinkageEntry.given_skel, LinkageEntry.birth_year)
Index("ix_linkage_family_father", LinkageEntry.family_skel, LinkageEntry.father_skel)
Index("ix_linkage_given_father", LinkageEntry.given_skel, LinkageEntry.father_skel)
Index("ix_linkage_given_mother", LinkageEntry.given_skel, LinkageEntry.mother_skel)
Index("ix_linkage_dob_family", LinkageEntry.dob_full, LinkageEntry.family_skel)
