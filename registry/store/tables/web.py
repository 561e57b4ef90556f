"""The web interface's tables: signed-in sessions, sign-in attempts (for lock-out) and each user's language.

No personal data of children here. A session row is found by the SHA-256 of its cookie value (the value
itself is never stored), so a copy of the database gives no usable session.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.db import Base, utcnow


class WebSession(Base):
    __tablename__ = "web_sessions"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex SHA-256 of the cookie value
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))  # echoed by every form; useless without the cookie
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # idle timeout counts from here
    ended_at: Mapped[dt.datetime | None] = mapped_column(default=None)  # signed out or timed out


class LoginAttempt(Base):
    """One sign-in attempt. `username_key` is a keyed fingerprint of the name typed (it may be a mistyped
    password), so failures can be counted per name without storing what was typed."""

    __tablename__ = "web_login_attempts"

    attempt_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    succeeded: Mapped[bool] = mapped_column(default=False)


Index("ix_web_login_attempts_username_key_at", LoginAttempt.username_key, LoginAttempt.at)


class WebPreference(Base):
    """What a user chose for the pages: the language (ar, the default, or en)."""

    __tablename__ = "web_preferences"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), default="ar")
