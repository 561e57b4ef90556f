"""Administrators' pages: an agency admin manages the agency's users, roles and API tokens; a system admin also
manages agencies. Each calls the use case the API route calls (registry.services.accounts), which asks the
policy decision point and logs its answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from registry.consent.roles import ROLES, SYSTEM_ADMIN
from registry.errors import FieldError, InvalidInput
from registry.services import accounts
from registry.services.sessions import WebUser
from registry.web.i18n import Language
from registry.web.pages import PageRoute, Posted, posted, registry_of, render, signed_in
from registry.web.routes.review import governorate_names

router = APIRouter(route_class=PageRoute)


def _users_page(request: Request, user: WebUser, status: int = 200, errors: Sequence[FieldError] = (),
                message: str | None = None, token: accounts.IssuedToken | None = None,
                values: dict | None = None) -> Response:
    reg, actor = registry_of(request), user.actor
    users = accounts.user_directory(reg, actor)
    tokens = {u.username: [t for t in accounts.tokens_of(reg, actor, u.username) if t.revoked_at is None]
              for u in users}
    agencies = ([a.code for a in accounts.agency_directory(reg, actor)] if actor.role == SYSTEM_ADMIN
                else [actor.agency])
    return render(request, "admin_users.html", status, users=users, tokens=tokens, errors=list(errors),
                  message=message, token=token, values=values or {}, roles=ROLES, agencies=agencies)


def _saved(request: Request, user: WebUser, text: str) -> Response:
    return _users_page(request, user, message=Language(user.language).gettext(text))


@router.get("/admin/users")
def users_page(request: Request, user: WebUser = Depends(signed_in)) -> Response:
    return _users_page(request, user)


@router.post("/admin/users")
def add_user(request: Request, form: Posted = Depends(posted)) -> Response:
    f = form.form
    try:
        accounts.add_user(registry_of(request), form.user.actor, f.get("username", "").strip(),
                          f.get("agency") or None, f.get("role", ""), f.get("password", ""))
    except InvalidInput as e:
        return _users_page(request, form.user, 422, e.errors, values=f)
    return _saved(request, form.user, "User added.")


@router.post("/admin/users/{username}/active")
def set_active(request: Request, username: str, form: Posted = Depends(posted)) -> Response:
    accounts.update_user(registry_of(request), form.user.actor, username, active=form.form.get("active") == "1")
    return _saved(request, form.user, "Saved.")


@router.post("/admin/users/{username}/password")
def reset_password(request: Request, username: str, form: Posted = Depends(posted)) -> Response:
    try:
        accounts.reset_password(registry_of(request), form.user.actor, username, form.form.get("password", ""))
    except InvalidInput as e:
        return _users_page(request, form.user, 422, e.errors)
    return _saved(request, form.user, "Password changed.")


@router.post("/admin/users/{username}/tokens")
def new_token(request: Request, username: str, form: Posted = Depends(posted)) -> Response:
    try:
        days = int(form.form.get("days") or accounts.DEFAULT_TOKEN_DAYS)
    except ValueError:
        raise InvalidInput.one("days", Language(form.user.language).gettext("must be a whole number of days")) from None
    issued = accounts.issue_token(registry_of(request), form.user.actor, username, days)
    return _users_page(request, form.user, token=issued)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke(request: Request, token_id: str, form: Posted = Depends(posted)) -> Response:
    accounts.revoke(registry_of(request), form.user.actor, token_id)
    return _saved(request, form.user, "Token revoked.")


def _agencies_page(request: Request, user: WebUser, status: int = 200, errors: Sequence[FieldError] = (),
                   values: dict | None = None, message: str | None = None) -> Response:
    agencies = accounts.agency_directory(registry_of(request), user.actor)
    return render(request, "admin_agencies.html", status, agencies=agencies, errors=list(errors),
                  values=values or {}, message=message, governorates=governorate_names(Language(user.language)),
                  may_add=user.actor.role == SYSTEM_ADMIN)


@router.get("/admin/agencies")
def agencies_page(request: Request, user: WebUser = Depends(signed_in)) -> Response:
    return _agencies_page(request, user)


@router.post("/admin/agencies")
def add_agency(request: Request, form: Posted = Depends(posted)) -> Response:
    f = form.form
    try:
        accounts.add_agency(registry_of(request), form.user.actor, f.get("code", "").strip(), f.get("name", ""),
                            f.get("governorate", ""), f.get("focal_point_role", "").strip()
                            or "child protection focal point")
    except InvalidInput as e:
        return _agencies_page(request, form.user, 422, e.errors, values=f)
    return _agencies_page(request, form.user, message=Language(form.user.language).gettext("Agency added."))
