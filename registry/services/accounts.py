"""Agencies, users and API tokens: creating them, logging in, and turning a bearer token into an Actor.

The same functions serve the command line and the HTTP API. Errors name the field and the reason.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.accounts.secrets_ import (
    hash_password,
    new_token,
    password_needs_rehash,
    token_hash,
    verify_password,
)
from registry.consent.roles import ROLES
from registry.errors import Conflict, InvalidInput, NotFound
from registry.identity.governorates import find_governorate
from registry.services.actor import Actor, Unauthenticated
from registry.services.context import Registry
from registry.store.db import utcnow
from registry.store.tables.accounts import Agency, ApiToken, User

_CODE_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.]{1,39}$")  # the same rule as CaseRecord.institution
_USERNAME_OK = re.compile(r"^[a-z0-9][a-z0-9_.\-]{2,63}$")
MIN_PASSWORD_LENGTH = 12
DEFAULT_TOKEN_DAYS = 30
MAX_TOKEN_DAYS = 365


@dataclass(frozen=True)
class IssuedToken:
    token_id: str
    token: str  # shown once; only its hash is stored
    expires_at: dt.datetime


def create_agency(reg: Registry, code: str, name: str, governorate: str,
                  focal_point_role: str = "child protection focal point") -> Agency:
    gov = find_governorate(governorate) if governorate else None
    errors = []
    if not _CODE_OK.match(code or ""):
        errors.append(("code", "must be 2-40 letters, digits, '-', '_' or '.'"))
    if not (name or "").strip():
        errors.append(("name", "is required"))
    if gov is None:
        errors.append(("governorate", "must be an ISO 3166-2 code of Syria or Egypt (e.g. SY-HL, EG-C)"))
    if errors:
        from registry.errors import FieldError

        raise InvalidInput([FieldError(f, r) for f, r in errors])
    with reg.db.unit_of_work() as s:
        if s.get(Agency, code) is not None:
            raise Conflict(f"agency {code} exists already", field="code")
        assert gov is not None  # checked above
        agency = Agency(code=code, name=name.strip(), governorate=gov.code, focal_point_role=focal_point_role)
        s.add(agency)
    return agency


def list_agencies(reg: Registry) -> list[Agency]:
    with reg.db.unit_of_work() as s:
        return list(s.scalars(select(Agency).order_by(Agency.code)))


def create_user(reg: Registry, username: str, agency: str, role: str, password: str) -> Actor:
    from registry.errors import FieldError

    errors = []
    if not _USERNAME_OK.match(username or ""):
        errors.append(FieldError("username", "must be 3-64 lower-case letters, digits, '.', '_' or '-'"))
    if role not in ROLES:
        errors.append(FieldError("role", f"must be one of {', '.join(ROLES)}"))
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", f"must have at least {MIN_PASSWORD_LENGTH} characters"))
    if errors:
        raise InvalidInput(errors)
    with reg.db.unit_of_work() as s:
        if s.get(Agency, agency) is None:
            raise InvalidInput.one("agency", f"no agency {agency}: add it first with `registry agencies add`")
        if s.scalars(select(User).where(User.username == username)).first() is not None:
            raise Conflict(f"user {username} exists already", field="username")
        user = User(user_id="U" + secrets.token_hex(8), username=username, agency=agency, role=role,
                    password_hash=hash_password(password))
        s.add(user)
    return Actor(user.user_id, user.role, user.agency, user.username)


def _user_by_name(s: Session, username: str) -> User:
    user = s.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound("user", username)
    return user


def login(reg: Registry, username: str, password: str) -> Actor:
    """Check a password; rehash it when the Argon2 parameters changed since it was stored."""
    with reg.db.unit_of_work() as s:
        user = s.scalars(select(User).where(User.username == username)).first()
        if user is None or not user.active or not verify_password(user.password_hash, password):
            raise Unauthenticated("wrong username or password")
        if password_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
        return Actor(user.user_id, user.role, user.agency, user.username)


def set_active(reg: Registry, username: str, active: bool) -> None:
    with reg.db.unit_of_work() as s:
        _user_by_name(s, username).active = active


def create_token(reg: Registry, username: str, days: int = DEFAULT_TOKEN_DAYS) -> IssuedToken:
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidInput.one("days", f"must be between 1 and {MAX_TOKEN_DAYS}")
    token = new_token()
    with reg.db.unit_of_work() as s:
        user = _user_by_name(s, username)
        row = ApiToken(token_id="T" + secrets.token_hex(8), user_id=user.user_id, token_hash=token_hash(token),
                       expires_at=utcnow() + dt.timedelta(days=days))
        s.add(row)
    return IssuedToken(row.token_id, token, row.expires_at)


def revoke_token(reg: Registry, token_id: str) -> None:
    with reg.db.unit_of_work() as s:
        row = s.get(ApiToken, token_id)
        if row is None:
            raise NotFound("token", token_id)
        if row.revoked_at is None:
            row.revoked_at = utcnow()


def list_tokens(reg: Registry, username: str) -> list[ApiToken]:
    with reg.db.unit_of_work() as s:
        user = _user_by_name(s, username)
        return list(s.scalars(select(ApiToken).where(ApiToken.user_id == user.user_id)
                              .order_by(ApiToken.created_at)))


def actor_for_token(reg: Registry, token: str) -> Actor:
    """The user behind a bearer token; Unauthenticated when it is unknown, expired or revoked."""
    if not token:
        raise Unauthenticated("no token")
    with reg.db.unit_of_work() as s:
        row = s.execute(
            select(ApiToken, User).join(User, User.user_id == ApiToken.user_id)
            .where(ApiToken.token_hash == token_hash(token))
        ).first()
        if row is None:
            raise Unauthenticated("unknown token")
        tok, user = row
        if tok.revoked_at is not None or tok.expires_at <= utcnow() or not user.active:
            raise Unauthenticated("token expired or revoked")
        return Actor(user.user_id, user.role, user.agency, user.username)


def get_agency(session: Session, code: str) -> Agency | None:
    return session.get(Agency, code)
