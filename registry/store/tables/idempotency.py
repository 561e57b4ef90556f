"""Idempotency keys of the HTTP API: the first answer to a creating POST, kept 24 hours so that a retry gets it
again. The answers hold pseudonyms and codes, as the API's answers do; never an identity."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.db import Base, utcnow


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    status: Mapped[int | None] = mapped_column(Integer, default=None)  # None while the first call runs
    body: Mapped[str | None] = mapped_column(Text, default=None)  # the first answer, JSON
    headers: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
