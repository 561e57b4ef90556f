"""Agencies, users and API tokens: creating them, logging in, and turning a bearer token into an Actor.

The same functions serve the command line and the HTTP API. Errors name the field and the reason.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from registry.accounts.secrets_ import (
    hash_password,
    new_token,
    password_needs_rehash,
    token_hash,
    verify_password,
)
from registry.consent import policy
from registry.consent.roles import AGENCY_ADMIN, CASELOAD_ROLES, DPO, ROLES, SYSTEM_ADMIN
from registry.errors import Conflict, InvalidInput, NotFound
from registry.identity.governorates import find_governorate
from registry.services.access import authorize
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


# Every API request asks this: one statement built once, no ORM session (its bookkeeping cost more than the query).
_tokens, _users = ApiToken.__table__.c, User.__table__.c
_TOKEN_OWNER = select(_users.user_id, _users.role, _users.agency, _users.username, _users.active,
                      _tokens.revoked_at, _tokens.expires_at).select_from(
    ApiToken.__table__.join(User.__table__, _users.user_id == _tokens.user_id)).where(
    _tokens.token_hash == bindparam("token_hash"))


def actor_for_token(reg: Registry, token: str) -> Actor:
    """The user behind a bearer token; Unauthenticated when it is unknown, expired or revoked."""
    if not token:
        raise Unauthenticated("no token")
    with reg.db.reads() as s:
        row = s.connection().execute(_TOKEN_OWNER, {"token_hash": token_hash(token)}).first()
    if row is None:
        raise Unauthenticated("unknown token")
    if row.revoked_at is not None or row.expires_at <= utcnow() or not row.active:
        raise Unauthenticated("token expired or revoked")
    return Actor(row.user_id, row.role, row.agency, row.username)


def get_agency(session: Session, code: str) -> Agency | None:
    return session.get(Agency, code)


# ---- Administration on a user's behalf (HTTP and web pages): every call asks the policy decision point -----
# A system administrator manages agencies and every agency's users; an agency administrator manages the users
# and tokens of their own agency only, and may grant only the caseload roles; a DPO reads the directory of
# users to read the audit log. Each decision is audited like any other.

@dataclass(frozen=True)
class UserView:
    """A user as administrators and the DPO see them: never the password hash."""

    user_id: str
    username: str
    agency: str
    role: str
    active: bool
    created_at: str
    last_login_at: str | None

    @classmethod
    def of(cls, u: User) -> UserView:
        return cls(u.user_id, u.username, u.agency, u.role, u.active, u.created_at.isoformat(timespec="seconds"),
                   u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else None)


@dataclass(frozen=True)
class AgencyView:
    code: str
    name: str
    governorate: str
    focal_point_role: str

    @classmethod
    def of(cls, a: Agency) -> AgencyView:
        return cls(a.code, a.name, a.governorate, a.focal_point_role)


@dataclass(frozen=True)
class TokenView:
    token_id: str
    created_at: str
    expires_at: str
    revoked_at: str | None

    @classmethod
    def of(cls, t: ApiToken) -> TokenView:
        return cls(t.token_id, t.created_at.isoformat(timespec="seconds"), t.expires_at.isoformat(timespec="seconds"),
                   t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else None)


def _administer(reg: Registry, s: Session, actor: Actor, agency: str | None) -> None:
    """Agency administration: the system administrator anywhere, an agency administrator in their own agency
    (`agency` None: registry-wide, the system administrator only)."""
    authorize(reg, s, actor, policy.ADMIN, purpose=policy.ADMINISTRATION, target_agency=agency)


def _grantable(actor: Actor, role: str) -> None:
    if actor.role != SYSTEM_ADMIN and role not in CASELOAD_ROLES:
        raise InvalidInput.one("role", f"an agency administrator may grant {' or '.join(sorted(CASELOAD_ROLES))}")


def agency_directory(reg: Registry, actor: Actor) -> list[AgencyView]:  # noqa: ARG001 (any signed-in user)
    """Every agency with its focal point: whom to contact is no secret among the registry's agencies."""
    with reg.db.unit_of_work() as s:
        return [AgencyView.of(a) for a in s.scalars(select(Agency).order_by(Agency.code))]


def add_agency(reg: Registry, actor: Actor, code: str, name: str, governorate: str,
               focal_point_role: str = "child protection focal point") -> AgencyView:
    """A new agency: the system administrator's."""
    with reg.db.unit_of_work() as s:
        _administer(reg, s, actor, None)
    return AgencyView.of(create_agency(reg, code, name, governorate, focal_point_role))


def user_directory(reg: Registry, actor: Actor, agency: str | None = None) -> list[UserView]:
    """Users with names and roles: all of them for the system administrator and the DPO (who map the user ids
    of audit events to people), their own agency's for an agency administrator."""
    scope = agency or (actor.agency if actor.role == AGENCY_ADMIN else None)
    with reg.db.unit_of_work() as s:
        purpose = "audit-review" if actor.role == DPO else policy.ADMINISTRATION
        authorize(reg, s, actor, policy.USERS_READ, purpose=purpose, target_agency=scope)
        query = select(User).order_by(User.agency, User.username)
        if scope:
            query = query.where(User.agency == scope)
        return [UserView.of(u) for u in s.scalars(query)]


def add_user(reg: Registry, actor: Actor, username: str, agency: str | None, role: str,
             password: str) -> UserView:
    agency = agency or actor.agency
    _grantable(actor, role)
    with reg.db.unit_of_work() as s:
        _administer(reg, s, actor, agency)
    create_user(reg, username, agency, role, password)
    return _view_user(reg, username)


def _view_user(reg: Registry, username: str) -> UserView:
    with reg.db.unit_of_work() as s:
        return UserView.of(_user_by_name(s, username))


def _managed_user(reg: Registry, s: Session, actor: Actor, username: str) -> User:
    """The user, if `actor` may administer them; NotFound alike for a user who is not there and one in another
    agency, so that an agency administrator cannot probe other agencies' usernames."""
    user = s.scalars(select(User).where(User.username == username)).first()
    if user is None or (actor.role != SYSTEM_ADMIN and user.agency != actor.agency):
        _administer(reg, s, actor, actor.agency if actor.role != SYSTEM_ADMIN else None)
        raise NotFound("user", username)
    _administer(reg, s, actor, user.agency)
    return user


def update_user(reg: Registry, actor: Actor, username: str, *, active: bool | None = None,
                role: str | None = None) -> UserView:
    """Disable or enable a user (their tokens stop or start working at once), or change their role."""
    if role is not None:
        if role not in ROLES:
            raise InvalidInput.one("role", f"must be one of {', '.join(ROLES)}")
        _grantable(actor, role)
    with reg.db.unit_of_work() as s:
        user = _managed_user(reg, s, actor, username)
        if user.user_id == actor.user_id and (active is False or (role and role != user.role)):
            raise Conflict("you cannot disable yourself or change your own role", field="username")
        if active is not None:
            user.active = active
        if role is not None:
            if actor.role != SYSTEM_ADMIN and user.role not in CASELOAD_ROLES:
                raise InvalidInput.one("role", "only the system administrator changes this user's role")
            user.role = role
        s.flush()
        return UserView.of(user)


def reset_password(reg: Registry, actor: Actor, username: str, password: str) -> UserView:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput.one("password", f"must have at least {MIN_PASSWORD_LENGTH} characters")
    with reg.db.unit_of_work() as s:
        user = _managed_user(reg, s, actor, username)
        user.password_hash = hash_password(password)
        return UserView.of(user)


def issue_token(reg: Registry, actor: Actor, username: str, days: int = DEFAULT_TOKEN_DAYS) -> IssuedToken:
    """A new API token for a user of the actor's agency (shown once; only its hash is stored)."""
    with reg.db.unit_of_work() as s:
        _managed_user(reg, s, actor, username)
    return create_token(reg, username, days)


def tokens_of(reg: Registry, actor: Actor, username: str) -> list[TokenView]:
    with reg.db.unit_of_work() as s:
        user = _managed_user(reg, s, actor, username)
        return [TokenView.of(t) for t in s.scalars(select(ApiToken).where(ApiToken.user_id == user.user_id)
                                                   .order_by(ApiToken.created_at))]


def revoke(reg: Registry, actor: Actor, token_id: str) -> TokenView:
    with reg.db.unit_of_work() as s:
        row = s.get(ApiToken, token_id)
        owner = s.get(User, row.user_id) if row is not None else None
        if row is None or owner is None:
            _administer(reg, s, actor, actor.agency if actor.role != SYSTEM_ADMIN else None)
            raise NotFound("token", token_id)
        _managed_user(reg, s, actor, owner.username)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        return TokenView.of(row)
