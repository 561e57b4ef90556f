"""Signing in to the web pages: password check (Argon2id, services.accounts.login), lock-out, server-side
sessions, sign-out and each user's language.

- A session is a random cookie value; the database keeps only its SHA-256, the user, a CSRF token, and when it
  was last used. It ends at sign-out or after `IDLE_MINUTES` without a request (the row stays, ended).
- Lock-out: after `MAX_FAILURES` failed attempts for one username within `LOCKOUT_WINDOW`, every attempt for it
  (even with the right password) is refused until the oldest failure leaves the window. Counted per keyed
  fingerprint of the name typed, so a password typed into the username box is never stored.
- Every attempt goes to the audit log (`sign-in`: success, failure, or denied when locked out), and so does
  each sign-out. The name typed appears only as its keyed fingerprint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from registry.accounts.secrets_ import hash_password, verify_password
from registry.audit import AuditEvent
from registry.services.accounts import login
from registry.services.actor import Actor, Unauthenticated
from registry.store.db import utcnow
from registry.store.tables.accounts import User
from registry.store.tables.web import LoginAttempt, WebPreference, WebSession

if TYPE_CHECKING:
    from registry.services.context import Registry

LANGUAGES = ("ar", "en")  # Arabic first: the default
IDLE_MINUTES = 30
MAX_FAILURES = 5
LOCKOUT_WINDOW = dt.timedelta(minutes=15)
SIGN_IN = "sign-in"
SIGN_OUT = "sign-out"


def language_or_default(value: str | None) -> str:
    return value if value in LANGUAGES else LANGUAGES[0]


class LockedOut(Unauthenticated):
    def __init__(self, retry_after: int):
        super().__init__("too many failed sign-ins")
        self.retry_after = retry_after


@dataclass(frozen=True)
class WebUser:
    """The signed-in caller of a page: who they are for the policy, their CSRF token and language."""

    actor: Actor
    csrf_token: str
    language: str


def _hash(value: str) -> str:
    return hashlib.sha256(b"registry-web-session\x00" + value.encode()).hexdigest()


def idle_limit(reg: Registry) -> dt.timedelta:
    return dt.timedelta(minutes=float(reg.settings.extra.get("web_idle_minutes", IDLE_MINUTES)))


def _username_key(reg: Registry, username: str) -> str:
    return reg.keys.content_digest("web-sign-in|" + username.strip().lower())


def _audit_sign_in(reg: Registry, outcome: str, reason: str, user: User | None, key: str) -> None:
    reg.audit.record(AuditEvent(
        action=SIGN_IN, outcome=outcome,
        user_id=user.user_id if user else "unknown-user", role=user.role if user else "none",
        agency=user.agency if user else "none", purpose="authentication", legal_basis="none",
        decision="permit" if outcome == "success" else "deny", reason_code=reason,
        query_fingerprint=None if user else key,
    ))


def sign_in(reg: Registry, username: str, password: str, language: str | None = None) -> tuple[str, WebUser]:
    """The new session's cookie value and its user; Unauthenticated (or LockedOut) otherwise. `language` is the
    one the sign-in page was shown in: it becomes the user's when they have not chosen one yet."""
    key = _username_key(reg, username)
    now = utcnow()
    with reg.db.unit_of_work() as s:
        user = s.scalars(select(User).where(User.username == username.strip())).first()
        last_success = s.scalar(select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username_key == key, LoginAttempt.succeeded.is_(True)))
        since = max(now - LOCKOUT_WINDOW, last_success or now - LOCKOUT_WINDOW)
        failures = list(s.scalars(select(LoginAttempt.at).where(
            LoginAttempt.username_key == key, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since)
            .order_by(LoginAttempt.at)))
    if len(failures) >= MAX_FAILURES:
        retry = int((failures[-MAX_FAILURES] + LOCKOUT_WINDOW - now).total_seconds()) + 1
        _audit_sign_in(reg, "denied", "deny.locked-out", user, key)
        raise LockedOut(max(retry, 1))
    try:
        if user is None:  # the same Argon2 work as for a real user: the answer's time does not tell who exists
            verify_password(_dummy_hash(), password)
        actor = login(reg, username.strip(), password)
    except Unauthenticated:
        with reg.db.unit_of_work() as s:
            s.add(LoginAttempt(username_key=key, at=now, succeeded=False))
        _audit_sign_in(reg, "failure", "deny.wrong-password", user, key)
        raise
    cookie = secrets.token_urlsafe(32)
    with reg.db.unit_of_work() as s:
        s.add(LoginAttempt(username_key=key, at=now, succeeded=True))
        csrf = secrets.token_urlsafe(32)
        s.add(WebSession(session_hash=_hash(cookie), user_id=actor.user_id, csrf_token=csrf, created_at=now,
                         last_seen_at=now))
        pref = s.get(WebPreference, actor.user_id)
        if pref is None:
            pref = WebPreference(user_id=actor.user_id, language=language_or_default(language))
            s.add(pref)
        language = language_or_default(pref.language)
    _audit_sign_in(reg, "success", "permit.password", user, key)
    return cookie, WebUser(actor, csrf, language)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


class SessionExpired(Unauthenticated):
    """The session existed but timed out: the page says so rather than a bare sign-in form."""


def current_user(reg: Registry, cookie: str | None) -> WebUser:
    """The session's user, its idle clock restarted. Unauthenticated / SessionExpired otherwise."""
    if not cookie:
        raise Unauthenticated("no session")
    now = utcnow()
    with reg.db.unit_of_work() as s:
        row = s.get(WebSession, _hash(cookie))
        if row is None or row.ended_at is not None:
            raise Unauthenticated("no session")
        if row.last_seen_at + idle_limit(reg) <= now:
            row.ended_at = now
            s.commit()
            raise SessionExpired("idle too long")
        user = s.get(User, row.user_id)
        if user is None or not user.active:
            row.ended_at = now
            s.commit()
            raise Unauthenticated("user disabled")
        row.last_seen_at = now
        pref = s.get(WebPreference, user.user_id)
        return WebUser(Actor(user.user_id, user.role, user.agency, user.username), row.csrf_token,
                       language_or_default(pref.language if pref else None))


def csrf_ok(user: WebUser, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(user.csrf_token.encode(), (sent or "").encode())


def sign_out(reg: Registry, cookie: str | None) -> None:
    if not cookie:
        return
    with reg.db.unit_of_work() as s:
        row = s.get(WebSession, _hash(cookie))
        if row is None or row.ended_at is not None:
            return
        row.ended_at = utcnow()
        user = s.get(User, row.user_id)
        reg.audit.record(AuditEvent(
            action=SIGN_OUT, outcome="success", user_id=row.user_id, role=user.role if user else "none",
            agency=user.agency if user else "none", purpose="authentication", legal_basis="none",
            decision="permit", reason_code="permit.sign-out"), session=s)


def set_language(reg: Registry, actor: Actor, language: str) -> str:
    language = language_or_default(language)
    with reg.db.unit_of_work() as s:
        pref = s.get(WebPreference, actor.user_id)
        if pref is None:
            s.add(WebPreference(user_id=actor.user_id, language=language))
        else:
            pref.language = language
    return language
