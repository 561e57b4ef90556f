"""Administrators' pages: an agency admin manages the agency's users and their API tokens; a system admin also
manages agencies. The policy decision point is asked first (`admin`, for the agency concerned: a system admin
for any, an agency admin for its own), and the decision is logged; then the accounts service does the work.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from registry.accounts import service as accounts
from registry.accounts.roles import ROLES, SYSTEM_ADMIN
from registry.accounts.secrets_ import hash_password
from registry.accounts.tables import ApiToken, User
from registry.consent import policy
from registry.consent.access import authorize
from registry.errors import FieldError, InvalidInput, NotFound
from registry.services.context import Registry
from registry.web.i18n import Language
from registry.web.pages import PageRoute, Posted, posted, registry_of, render, signed_in
from registry.web.routes.review import governorate_names
from registry.web.sessions import WebUser

router = APIRouter(route_class=PageRoute)
PURPOSE = "administration"


def _allow(reg: Registry, user: WebUser, agency: str | None) -> None:
    with reg.db.unit_of_work() as s:
        authorize(reg, s, user.actor, policy.ADMIN, purpose=PURPOSE, target_agency=agency or user.actor.agency)


def _agency_in_scope(user: WebUser, form_agency: str | None) -> str:
    return (form_agency or user.actor.agency) if user.actor.role == SYSTEM_ADMIN else user.actor.agency


def _users_page(request: Request, user: WebUser, status: int = 200, errors: list[FieldError] = (),
                message: str | None = None, token: accounts.IssuedToken | None = None,
                values: dict | None = None) -> Response:
    reg = registry_of(request)
    scope = None if user.actor.role == SYSTEM_ADMIN else user.actor.agency
    with reg.db.unit_of_work() as s:
        q = select(User).order_by(User.agency, User.username)
        if scope:
            q = q.where(User.agency == scope)
        users = list(s.scalars(q))
        tokens = {u.user_id: list(s.scalars(select(ApiToken).where(ApiToken.user_id == u.user_id,
                                                                   ApiToken.revoked_at.is_(None))))
                  for u in users}
    agencies = [a.code for a in accounts.list_agencies(reg)] if not scope else [scope]
    return render(request, "admin_users.html", status, users=users, tokens=tokens, errors=list(errors),
                  message=message, token=token, values=values or {}, roles=ROLES, agencies=agencies)


@router.get("/admin/users")
def users_page(request: Request, user: WebUser = Depends(signed_in)) -> Response:
    _allow(registry_of(request), user, None)
    return _users_page(request, user)


def _target(reg: Registry, user: WebUser, username: str) -> User:
    with reg.db.unit_of_work() as s:
        target = s.scalars(select(User).where(User.username == username)).first()
    if target is None:
        raise NotFound("user", username)
    _allow(reg, user, target.agency)
    return target


@router.post("/admin/users")
def add_user(request: Request, form: Posted = Depends(posted)) -> Response:
    reg, user, f = registry_of(request), form.user, form.form
    agency = _agency_in_scope(user, f.get("agency"))
    _allow(reg, user, agency)
    try:
        accounts.create_user(reg, f.get("username", "").strip(), agency, f.get("role", ""), f.get("password", ""))
    except InvalidInput as e:
        return _users_page(request, user, 422, e.errors, values=f)
    _ = Language(user.language).gettext
    return _users_page(request, user, message=_("User added."))


@router.post("/admin/users/{username}/active")
def set_active(request: Request, username: str, form: Posted = Depends(posted)) -> Response:
    reg = registry_of(request)
    _target(reg, form.user, username)
    accounts.set_active(reg, username, form.form.get("active") == "1")
    return _users_page(request, form.user, message=Language(form.user.language).gettext("Saved."))


@router.post("/admin/users/{username}/password")
def reset_password(request: Request, username: str, form: Posted = Depends(posted)) -> Response:
    reg = registry_of(request)
    target = _target(reg, form.user, username)
    password = form.form.get("password", "")
    if len(password) < accounts.MIN_PASSWORD_LENGTH:
        _ = Language(form.user.language).gettext
        return _users_page(request, form.user, 422, [FieldError("password", _(
            "must have at least {n} characters").format(n=accounts.MIN_PASSWORD_LENGTH))])
    with reg.db.unit_of_work() as s:
        s.get(User, target.user_id).password_hash = hash_password(password)
    return _users_page(request, form.user, message=Language(form.user.language).gettext("Password changed."))


@router.post("/admin/users/{username}/tokens")
def new_token(request: Request, username: str, form: Posted = Depends(posted)) -> Response:
    reg = registry_of(request)
    _target(reg, form.user, username)
    try:
        days = int(form.form.get("days") or accounts.DEFAULT_TOKEN_DAYS)
    except ValueError:
        raise InvalidInput.one("days", Language(form.user.language).gettext("must be a whole number of days")) from None
    issued = accounts.create_token(reg, username, days)
    return _users_page(request, form.user, token=issued)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke(request: Request, token_id: str, form: Posted = Depends(posted)) -> Response:
    reg = registry_of(request)
    with reg.db.unit_of_work() as s:
        row = s.get(ApiToken, token_id)
        owner = s.get(User, row.user_id) if row else None
    if owner is None:
        raise NotFound("token", token_id)
    _target(reg, form.user, owner.username)
    accounts.revoke_token(reg, token_id)
    return _users_page(request, form.user, message=Language(form.user.language).gettext("Token revoked."))


def _agencies_page(request: Request, user: WebUser, status: int = 200, errors: list[FieldError] = (),
                   values: dict | None = None, message: str | None = None) -> Response:
    lang = Language(user.language)
    return render(request, "admin_agencies.html", status, agencies=accounts.list_agencies(registry_of(request)),
                  errors=list(errors), values=values or {}, message=message, governorates=governorate_names(lang))


@router.get("/admin/agencies")
def agencies_page(request: Request, user: WebUser = Depends(signed_in)) -> Response:
    _allow(registry_of(request), user, "*")  # every agency: only a system admin
    return _agencies_page(request, user)


@router.post("/admin/agencies")
def add_agency(request: Request, form: Posted = Depends(posted)) -> Response:
    reg, user, f = registry_of(request), form.user, form.form
    _allow(reg, user, "*")
    try:
        accounts.create_agency(reg, f.get("code", "").strip(), f.get("name", ""), f.get("governorate", ""),
                               f.get("focal_point_role", "").strip() or "child protection focal point")
    except InvalidInput as e:
        return _agencies_page(request, user, 422, e.errors, values=f)
    return _agencies_page(request, user, message=Language(user.language).gettext("Agency added."))
