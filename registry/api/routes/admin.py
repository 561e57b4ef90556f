"""Administration over HTTP, through the policy decision point: agencies (the system administrator), users,
roles and tokens (an agency administrator within their own agency), the directory of users (also the DPO,
to read the audit log), and who am I. Thin: each route calls one function of `registry.services.accounts`."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from registry.api.deps import current_actor, get_registry
from registry.consent.roles import ROLES
from registry.services import accounts
from registry.services.accounts import AgencyView, TokenView, UserView
from registry.services.actor import Actor
from registry.services.context import Registry

router = APIRouter(tags=["accounts"])
Role = Literal[ROLES]  # type: ignore[valid-type]


class MeOut(BaseModel):
    user_id: str
    username: str
    role: str
    agency: str


@router.get("/me", response_model=MeOut)
def me(actor: Actor = Depends(current_actor)) -> MeOut:
    return MeOut(user_id=actor.user_id, username=actor.username, role=actor.role, agency=actor.agency)


class AgencyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=200)

    code: str = Field(description="Institution code, as in the case lists", examples=["sy-homs-ngo-1"])
    name: str = Field(examples=["جمعية رعاية الطفل - حمص"])
    governorate: str = Field(description="ISO 3166-2 code of Syria or Egypt", examples=["SY-HI"])
    focal_point_role: str = "child protection focal point"


@router.get("/agencies", response_model=list[AgencyView])
def list_agencies(reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor)) -> list[AgencyView]:
    """Every agency and its focal point (whom to contact)."""
    return accounts.agency_directory(reg, actor)


@router.post("/agencies", response_model=AgencyView, status_code=201)
def add_agency(body: AgencyIn, response: Response, reg: Registry = Depends(get_registry),
               actor: Actor = Depends(current_actor)) -> AgencyView:
    """Add an agency (system administrator)."""
    agency = accounts.add_agency(reg, actor, body.code, body.name, body.governorate, body.focal_point_role)
    response.headers["Location"] = f"/v1/agencies/{agency.code}"
    return agency


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=200)

    username: str = Field(examples=["maya.khoury"])
    agency: str | None = Field(None, description="Default: the caller's agency")
    role: Role  # type: ignore[valid-type]
    password: str = Field(min_length=1, description="At least 12 characters; stored as an Argon2id hash")


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    role: Role | None = None  # type: ignore[valid-type]


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=200)

    password: str


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=accounts.DEFAULT_TOKEN_DAYS, ge=1, le=accounts.MAX_TOKEN_DAYS)


class IssuedTokenOut(BaseModel):
    token_id: str
    token: str = Field(description="Shown once: only its hash is stored")
    expires_at: str


@router.get("/users", response_model=list[UserView])
def list_users(agency: str | None = Query(None, max_length=40), reg: Registry = Depends(get_registry),
               actor: Actor = Depends(current_actor)) -> list[UserView]:
    """Users with names and roles: every agency's for the system administrator and the DPO, the caller's
    own agency's for an agency administrator."""
    return accounts.user_directory(reg, actor, agency)


@router.post("/users", response_model=UserView, status_code=201)
def add_user(body: UserIn, response: Response, reg: Registry = Depends(get_registry),
             actor: Actor = Depends(current_actor)) -> UserView:
    user = accounts.add_user(reg, actor, body.username, body.agency, body.role, body.password)
    response.headers["Location"] = f"/v1/users/{user.username}"
    return user


@router.patch("/users/{username}", response_model=UserView)
def change_user(username: str, body: UserChange, reg: Registry = Depends(get_registry),
                actor: Actor = Depends(current_actor)) -> UserView:
    """Disable or enable a user (their tokens stop or start working at once), or change their role."""
    return accounts.update_user(reg, actor, username, active=body.active, role=body.role)


@router.post("/users/{username}/password", response_model=UserView)
def reset_password(username: str, body: PasswordIn, reg: Registry = Depends(get_registry),
                   actor: Actor = Depends(current_actor)) -> UserView:
    return accounts.reset_password(reg, actor, username, body.password)


@router.get("/users/{username}/tokens", response_model=list[TokenView])
def list_tokens(username: str, reg: Registry = Depends(get_registry),
                actor: Actor = Depends(current_actor)) -> list[TokenView]:
    return accounts.tokens_of(reg, actor, username)


@router.post("/users/{username}/tokens", response_model=IssuedTokenOut, status_code=201)
def create_token(username: str, response: Response, body: TokenIn | None = None,
                 reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor)) -> IssuedTokenOut:
    issued = accounts.issue_token(reg, actor, username, (body or TokenIn()).days)
    response.headers["Location"] = f"/v1/tokens/{issued.token_id}"
    return IssuedTokenOut(token_id=issued.token_id, token=issued.token,
                          expires_at=issued.expires_at.isoformat(timespec="seconds"))


@router.delete("/tokens/{token_id}", response_model=TokenView)
def revoke_token(token_id: str, reg: Registry = Depends(get_registry),
                 actor: Actor = Depends(current_actor)) -> TokenView:
    """Revoke a token: it stops working at once."""
    return accounts.revoke(reg, actor, token_id)
