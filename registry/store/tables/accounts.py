"""The accounts tables: agencies (institutions), users with one role each, and API tokens (hashes only)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.db import Base, utcnow


class Agency(Base):
    """An institution that holds cases. `code` is the same code as `CaseRecord.institution`."""

    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    governorate: Mapped[str] = mapped_column(String(8))  # ISO 3166-2, e.g. SY-HL, EG-C
    # What a lookup tells other agencies to ask for: a role, never a person's name.
    focal_point_role: Mapped[str] = mapped_column(String(80), default="child protection focal point")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # opaque, goes into the audit log
    username: Mapped[str] = mapped_column(String(64), unique=True)
    agency: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    role: Mapped[str] = mapped_column(String(32))  # one of registry.consent.roles.ROLES
    password_hash: Mapped[str] = mapped_column(String(200))  # Argon2id, PHC string
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class ApiToken(Base):
    """An API token, stored as its SHA-256 only: the token itself is shown once, at creation."""

    __tablename__ = "api_tokens"

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the whole token
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
