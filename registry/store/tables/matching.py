"""Matching's tables: the linkage index (keyed encodings per record), the review queue, batch runs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.db import Base, utcnow

TOKEN = String(16)


class LinkageEntry(Base):
    __tablename__ = "linkage_entries"

    record_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Not indexed: the index is read by record and by blocking keys, never by child, and every merge moves rows.
    child_id: Mapped[str] = mapped_column(String(20))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(1))
    governorate: Mapped[str | None] = mapped_column(String(8))
    given_key: Mapped[str | None] = mapped_column(TOKEN)
    given_skel: Mapped[str | None] = mapped_column(TOKEN)
    given_known: Mapped[bool] = mapped_column(Boolean, default=False)
    given_ids: Mapped[str] = mapped_column(Text, default="")  # space-separated tokens
    given_grams: Mapped[str] = mapped_column(Text, default="")  # space-separated integers
    father_skel: Mapped[str | None] = mapped_column(TOKEN)
    grandfather_skel: Mapped[str | None] = mapped_column(TOKEN)
    family_skel: Mapped[str | None] = mapped_column(TOKEN)
    chain_keys: Mapped[str] = mapped_column(Text, default="")  # space-separated tokens
    chain_skels: Mapped[str] = mapped_column(Text, default="")
    mother_key: Mapped[str | None] = mapped_column(TOKEN)
    mother_skel: Mapped[str | None] = mapped_column(TOKEN)
    mother_family_key: Mapped[str | None] = mapped_column(TOKEN)
    mother_family_skel: Mapped[str | None] = mapped_column(TOKEN)
    # Each part's keyed one-letter-out skeletons (space-separated integers): a typo is "only similar".
    father_near: Mapped[str] = mapped_column(Text, default="")
    grandfather_near: Mapped[str] = mapped_column(Text, default="")
    family_near: Mapped[str] = mapped_column(Text, default="")
    mother_near: Mapped[str] = mapped_column(Text, default="")
    mother_family_near: Mapped[str] = mapped_column(Text, default="")
    parts_known: Mapped[int] = mapped_column(Integer, default=0)  # bit per part: the dictionary knows it
    dob_full: Mapped[str | None] = mapped_column(TOKEN)
    dob_ym: Mapped[str | None] = mapped_column(TOKEN)
    dob_swap: Mapped[str | None] = mapped_column(TOKEN)
    dob_md: Mapped[str | None] = mapped_column(TOKEN)
    dob_loose: Mapped[bool] = mapped_column(Boolean, default=False)
    nid: Mapped[str | None] = mapped_column(TOKEN, index=True)
    encoding_version: Mapped[int] = mapped_column(Integer, default=1)


# The real-time lookup's candidate keys (the batch blocking rules; see registry.matching.model).
Index("ix_linkage_given_family_year", LinkageEntry.given_skel, LinkageEntry.family_skel, LinkageEntry.birth_year)
Index("ix_linkage_given_father_family", LinkageEntry.given_skel, LinkageEntry.father_skel, LinkageEntry.family_skel)
Index("ix_linkage_family_father_year", LinkageEntry.family_skel, LinkageEntry.father_skel, LinkageEntry.birth_year)
# With the day and month last: given + father + year where the stored row lacks a day and month is a seek.
Index("ix_linkage_given_father_year_md", LinkageEntry.given_skel, LinkageEntry.father_skel, LinkageEntry.birth_year,
      LinkageEntry.dob_md)
Index("ix_linkage_dob_family", LinkageEntry.dob_full, LinkageEntry.family_skel)
Index("ix_linkage_dob_father", LinkageEntry.dob_full, LinkageEntry.father_skel)
Index("ix_linkage_dob_given", LinkageEntry.dob_full, LinkageEntry.given_skel)
Index("ix_linkage_md_given", LinkageEntry.dob_md, LinkageEntry.given_skel)
# Without it SQLite answered day and month + family + father from ix_linkage_md_given on the day and month
# alone (some 2,700 rows at a million records): a lookup's median went from 1.5 to 7 ms.
Index("ix_linkage_family_father_md", LinkageEntry.family_skel, LinkageEntry.father_skel, LinkageEntry.dob_md)
Index("ix_linkage_given_mother", LinkageEntry.given_skel, LinkageEntry.mother_skel, LinkageEntry.mother_family_skel)
# Given name + governorate + year where one side has no father and one side no day and month (issue 14): no
# other index starts with two of its equalities.
Index("ix_linkage_given_year_gov", LinkageEntry.given_skel, LinkageEntry.birth_year, LinkageEntry.governorate)

class SuspectedDuplicate(Base):
    """A pair of records that deduplication or registration thinks may be the same child: the review queue.

    `digest_a`/`digest_b` are the records' content digests when the pair was suggested, so a pair that a
    reviewer rejected is never suggested again unless one record's identity changes.
    """

    __tablename__ = "suspected_duplicates"
    __table_args__ = (UniqueConstraint("record_a", "record_b", name="uq_suspected_duplicates_pair"),)

    pair_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_a: Mapped[str] = mapped_column(String(32))  # the smaller record id; read through the unique index
    record_b: Mapped[str] = mapped_column(String(32), index=True)
    probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))  # batch | registration
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open|merged|rejected|stale|covered
    digest_a: Mapped[str] = mapped_column(String(40))
    digest_b: Mapped[str] = mapped_column(String(40))
    run_id: Mapped[str | None] = mapped_column(String(32))
    # Pairs that share a child are decided together: the queue's cluster, stored when a batch run ends so the
    # queue can be paged in SQL (None until then: the pair is a cluster of its own).
    cluster_key: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    # How much a decision on the pair is worth (the queue's order): see registry.services.review.automatic.
    priority: Mapped[float | None] = mapped_column(Float, default=None)
    # Why a same-child pair was not merged automatically (a must-stay-apart rule): a person decides.
    held: Mapped[str | None] = mapped_column(String(24), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ClusterAssignment(Base):
    """The latest batch run's cluster of each record (what `registry export clusters` writes); run_id: the run
    that last changed it (`queue.store_clusters`)."""

    __tablename__ = "cluster_assignments"

    record_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cluster_id: Mapped[str] = mapped_column(String(32), index=True)
    run_id: Mapped[str] = mapped_column(String(32))


class DedupeRun(Base):
    __tablename__ = "dedupe_runs"

    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # running | finished | failed. A run that died (killed, machine lost) stays "running" until the next run,
    # which holds the dedupe lock and so knows no other run is alive, marks it failed.
    status: Mapped[str] = mapped_column(String(16), default="running", server_default="running")
    records: Mapped[int] = mapped_column(Integer, default=0)
    pairs_scored: Mapped[int] = mapped_column(Integer, default=0)
    suspected: Mapped[int] = mapped_column(Integer, default=0)
    clusters: Mapped[int] = mapped_column(Integer, default=0)
    auto_merged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # automatic merges made
