"""An administrator's use cases on the web pages: users, their API tokens, agencies.

Each asks the policy decision point first (action `admin` for the agency concerned: a system admin for any, an
agency admin for its own; `*` means every agency, so only a system admin), which logs the decision, and then
does the work with the accounts use cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from registry.accounts.secrets_ import hash_password
from registry.consent import policy
from registry.consent.roles import SYSTEM_ADMIN
from registry.errors import InvalidInput, NotFound
from registry.services import accounts
from registry.services.access import authorize
from registry.services.actor import Actor
from registry.services.context import Registry
from registry.store.tables.accounts import Agency, ApiToken, User

PURPOSE = "administration"
EVERY_AGENCY = "*"


@dataclass(frozen=True)
class TokenView:
    token_id: str
    expires_at: object


@dataclass(frozen=True)
class UserView:
    user_id: str
    username: str
    agency: str
    role: str
    active: bool
    tokens: tuple[TokenView, ...]


def allow(reg: Registry, actor: Actor, agency: str) -> None:
    with reg.db.unit_of_work() as s:
        authorize(reg, s, actor, policy.ADMIN, purpose=PURPOSE, target_agency=agency)


def scope(actor: Actor) -> str | None:
    """The agency whose users the actor manages; None for all (a system admin)."""
    return None if actor.role == SYSTEM_ADMIN else actor.agency


def users(reg: Registry, actor: Actor) -> list[UserView]:
    allow(reg, actor, scope(actor) or EVERY_AGENCY)
    with reg.db.unit_of_work() as s:
        q = select(User).order_by(User.agency, User.username)
        if scope(actor):
            q = q.where(User.agency == scope(actor))
        out = []
        for u in s.scalars(q):
            tokens = s.scalars(select(ApiToken).where(ApiToken.user_id == u.user_id, ApiToken.revoked_at.is_(None))
                               .order_by(ApiToken.created_at))
            out.append(UserView(u.user_id, u.username, u.agency, u.role, u.active,
                                tuple(TokenView(t.token_id, t.expires_at) for t in tokens)))
        return out


def _agency_of(reg: Registry, username: str) -> str:
    with reg.db.unit_of_work() as s:
        agency = s.scalar(select(User.agency).where(User.username == username))
    if agency is None:
        raise NotFound("user", username)
    return agency


def add_user(reg: Registry, actor: Actor, username: str, agency: str | None, role: str, password: str) -> Actor:
    """An agency admin adds to its own agency whatever agency the form names; a system admin to any."""
    target = (agency or actor.agency) if scope(actor) is None else actor.agency
    allow(reg, actor, target)
    return accounts.create_user(reg, username, target, role, password)


def set_user_active(reg: Registry, actor: Actor, username: str, active: bool) -> None:
    allow(reg, actor, _agency_of(reg, username))
    accounts.set_active(reg, username, active)


def reset_password(reg: Registry, actor: Actor, username: str, password: str) -> None:
    allow(reg, actor, _agency_of(reg, username))
    if len(password or "") < accounts.MIN_PASSWORD_LENGTH:
        raise InvalidInput.one("password", f"must have at least {accounts.MIN_PASSWORD_LENGTH} characters")
    with reg.db.unit_of_work() as s:
        user = s.scalars(select(User).where(User.username == username)).one()
        user.password_hash = hash_password(password)


def issue_token(reg: Registry, actor: Actor, username: str, days: int = accounts.DEFAULT_TOKEN_DAYS
                ) -> accounts.IssuedToken:
    allow(reg, actor, _agency_of(reg, username))
    return accounts.create_token(reg, username, days)


def revoke_token(reg: Registry, actor: Actor, token_id: str) -> None:
    with reg.db.unit_of_work() as s:
        row = s.get(ApiToken, token_id)
        owner = s.get(User, row.user_id) if row else None
    if owner is None:
        raise NotFound("token", token_id)
    allow(reg, actor, owner.agency)
    accounts.revoke_token(reg, token_id)


def agencies(reg: Registry, actor: Actor) -> list[Agency]:
    allow(reg, actor, EVERY_AGENCY)
    return accounts.list_agencies(reg)


def add_agency(reg: Registry, actor: Actor, code: str, name: str, governorate: str, focal_point_role: str) -> Agency:
    allow(reg, actor, EVERY_AGENCY)
    return accounts.create_agency(reg, code, name, governorate, focal_point_role or "child protection focal point")
