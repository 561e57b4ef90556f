"""Review's tables: the decisions as labels, the merges with the records each one moved, the golden choices.

No personal data here: pseudonyms, record ids, probabilities, field names. The golden identity itself is not
stored: it is derived from the sealed records (registry.identity.survivorship), so erasing a record also erases
everything it contributed to its child's golden identity.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.db import Base, utcnow


class ReviewLabel(Base):
    """One decision on a suspected pair, kept as a label to measure the model: merge | not-duplicate | undone.

    A pair's latest label is its truth; "undone" (its merge was undone) withdraws the earlier label.
    """

    __tablename__ = "review_labels"

    label_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pair_id: Mapped[int] = mapped_column(Integer, index=True)
    record_a: Mapped[str] = mapped_column(String(32))
    record_b: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))  # merge | not-duplicate | undone
    decided_by: Mapped[str] = mapped_column(String(32))  # a user id, or "auto"
    probability: Mapped[float] = mapped_column(Float)  # the model's probability when decided
    match_weight: Mapped[float] = mapped_column(Float)
    merge_id: Mapped[str | None] = mapped_column(String(24), default=None)
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Merge(Base):
    """Two children made one: `absorbed` now points at `survivor`. Undone by moving its records back."""

    __tablename__ = "merges"

    merge_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    survivor: Mapped[str] = mapped_column(ForeignKey("children.child_id"), index=True)
    absorbed: Mapped[str] = mapped_column(ForeignKey("children.child_id"), index=True)
    pair_id: Mapped[int | None] = mapped_column(Integer, default=None)  # the pair decided (None: by hand)
    # Other open pairs that became one child with this merge: reopened when it is undone.
    closed_pairs: Mapped[str] = mapped_column(Text, default="")  # space-separated pair ids
    decided_by: Mapped[str] = mapped_column(String(32))  # the reviewer's user id, or "auto"
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    probability: Mapped[float | None] = mapped_column(Float, default=None)
    run_id: Mapped[str | None] = mapped_column(String(32), default=None)  # the batch run of an automatic merge
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    undone_by: Mapped[str | None] = mapped_column(String(32), default=None)


class MergeMove(Base):
    """One case record a merge moved from the absorbed child to the survivor."""

    __tablename__ = "merge_moves"

    merge_id: Mapped[str] = mapped_column(ForeignKey("merges.merge_id"), primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("case_records.record_id"), primary_key=True, index=True)
    from_child: Mapped[str] = mapped_column(String(20))
    to_child: Mapped[str] = mapped_column(String(20))


class GoldenChoice(Base):
    """A reviewer's override of the survivorship rules: take this field of the golden identity from this record.

    Overrides name a record, never a value: the value stays sealed in the vault with its record.
    """

    __tablename__ = "golden_choices"

    merge_id: Mapped[str] = mapped_column(ForeignKey("merges.merge_id"), primary_key=True)
    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    child_id: Mapped[str] = mapped_column(String(20), index=True)
    record_id: Mapped[str] = mapped_column(String(32))
