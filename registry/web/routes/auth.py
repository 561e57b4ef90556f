"""Signing in and out, the language switch, and the start page."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from registry.errors import FieldError
from registry.services import sessions
from registry.services.accounts import agency_directory
from registry.services.actor import Unauthenticated
from registry.services.sessions import WebUser
from registry.web.i18n import Language, language_or_default
from registry.web.pages import (
    CSRF_FIELD,
    LANG_COOKIE,
    SESSION_COOKIE,
    PageRoute,
    Posted,
    page_language,
    posted,
    registry_of,
    render,
    signed_in,
)

router = APIRouter(route_class=PageRoute)
LOGIN_CSRF_COOKIE = "registry_login_csrf"


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")


def safe_next(target: str | None) -> str:
    """Only a path of this site: never an open redirect to another origin."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _sign_in_page(request: Request, status: int = 200, errors: Sequence[FieldError] = (), **context) -> Response:
    token = secrets.token_urlsafe(32)
    request.state.login_csrf = token
    response = render(request, "sign_in.html", status, errors=list(errors), **context)
    _cookie(response, request, LOGIN_CSRF_COOKIE, token)
    if request.query_params.get("lang"):
        _cookie(response, request, LANG_COOKIE, language_or_default(request.query_params["lang"]), 365 * 86400)
    return response


@router.get("/sign-in")
def sign_in_form(request: Request, next: str = "/", expired: bool = False, signed_out: bool = False) -> Response:
    return _sign_in_page(request, next=safe_next(next), expired=expired, signed_out=signed_out, values={})


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    _ = Language(page_language(request)).gettext
    next_ = safe_next(form.get("next"))
    values = {"username": form.get("username", "")}
    sent, expected = form.get(CSRF_FIELD, ""), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        return _sign_in_page(request, 403, [FieldError(CSRF_FIELD, _(
            "The form's security token was missing or out of date: send the form again."))],
            next=next_, values=values)
    errors = []
    if not form.get("username", "").strip():
        errors.append(FieldError("username", _("Enter your username")))
    if not form.get("password"):
        errors.append(FieldError("password", _("Enter your password")))
    if errors:
        return _sign_in_page(request, 422, errors, next=next_, values=values)
    reg = registry_of(request)
    try:
        cookie, user = await run_in_threadpool(sessions.sign_in, reg, form["username"], form["password"],
                                               page_language(request))
    except sessions.LockedOut as e:
        minutes = max(1, (e.retry_after + 59) // 60)
        return _sign_in_page(request, 429, [FieldError("username", _(
            "Too many failed sign-ins for this username. Try again in {minutes} minutes.").format(
                minutes=Language(page_language(request)).number(minutes)))], next=next_, values=values)
    except Unauthenticated:
        return _sign_in_page(request, 401, [FieldError("password", _(
            "The username or the password is not right (or the account is disabled)."))],
            next=next_, values=values)
    response = RedirectResponse(next_, status_code=303)
    _cookie(response, request, SESSION_COOKIE, cookie)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    request.state.web_user = user
    return response


@router.post("/sign-out")
def sign_out(request: Request, form: Posted = Depends(posted)) -> Response:
    sessions.sign_out(registry_of(request), request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/sign-in?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/language")
def language(request: Request, form: Posted = Depends(posted)) -> Response:
    chosen = sessions.set_language(registry_of(request), form.user.actor, form.form.get("language", ""))
    response = RedirectResponse(safe_next(form.form.get("next")), status_code=303)
    _cookie(response, request, LANG_COOKIE, chosen, 365 * 86400)
    return response


@router.get("/")
def home(request: Request, user: WebUser = Depends(signed_in)) -> Response:
    agencies = {a.code: a.name for a in agency_directory(registry_of(request), user.actor)}
    return render(request, "home.html", agency_name=agencies.get(user.actor.agency, user.actor.agency))
