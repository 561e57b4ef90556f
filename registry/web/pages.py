"""What every page shares: the templates per language, the signed-in user, CSRF checks, and error pages.

A page route is thin: it parses, calls one use-case function (the same one the API route calls) and renders.
`PageRoute` turns the use cases' exceptions into pages (403 with the policy's reason, 404, 409, 422 naming each
field, 429, 503); anything unexpected becomes a plain 500 page and the traceback goes to the server log only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from registry.errors import Conflict, FieldError, InvalidInput, NotFound
from registry.services import sessions
from registry.services.access import AccessDenied, QuotaExceeded
from registry.services.actor import Unauthenticated
from registry.services.context import Registry
from registry.services.lookups import MatchingUnavailable
from registry.services.sessions import SessionExpired, WebUser
from registry.web.i18n import LANGUAGES, Language, language_or_default, translations
from registry.web.words import FIELD_LABELS, ROLE_NAMES, labeller

log = logging.getLogger("registry.web")
TEMPLATES = Path(__file__).parent / "templates"
SESSION_COOKIE = "registry_session"
LANG_COOKIE = "registry_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def _environment(lang: str) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "svg"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    # A value placed into a translated sentence keeps its own direction ("٪١٠٠" never becomes "١٠٠٪" reversed).
    env.filters["bdi"] = lambda value: Markup("<bdi>{}</bdi>").format(value)
    return env


_ENVIRONMENTS = {lang: _environment(lang) for lang in LANGUAGES}


class SignInRequired(Exception):
    def __init__(self, expired: bool = False):
        self.expired = expired


class CsrfRefused(Exception):
    pass


def registry_of(request: Request) -> Registry:
    return request.app.state.registry


def page_language(request: Request) -> str:
    user: WebUser | None = getattr(request.state, "web_user", None)
    if user is not None:
        return user.language
    return language_or_default(request.query_params.get("lang") or request.cookies.get(LANG_COOKIE))


def render(request: Request, template: str, status: int = 200, *, lang: str | None = None,
           headers: Mapping[str, str] | None = None, **context: Any) -> HTMLResponse:
    code = lang or page_language(request)
    user: WebUser | None = getattr(request.state, "web_user", None)
    language = Language(code)
    html = _ENVIRONMENTS[code].get_template(template).render(
        request=request, user=user, lang=language, csrf_field=CSRF_FIELD,
        field_label=labeller(FIELD_LABELS, language.gettext), role_name=labeller(ROLE_NAMES, language.gettext),
        csrf_token=user.csrf_token if user else getattr(request.state, "login_csrf", ""), **context)
    return HTMLResponse(html, status_code=status, headers=dict(headers or {}))


def gettext_for(request: Request) -> Callable[[str], str]:
    return Language(page_language(request)).gettext


async def signed_in(request: Request) -> WebUser:
    """The page's user; SignInRequired when there is no live session (the page redirects to sign-in)."""
    reg = registry_of(request)
    try:
        user = await run_in_threadpool(sessions.current_user, reg, request.cookies.get(SESSION_COOKIE))
    except SessionExpired:
        raise SignInRequired(expired=True) from None
    except Unauthenticated:
        raise SignInRequired() from None
    request.state.web_user = user
    return user


@dataclass(frozen=True)
class Posted:
    """A form sent by a signed-in user, its CSRF token checked."""

    user: WebUser
    form: dict[str, str]


async def posted(request: Request, user: WebUser = Depends(signed_in)) -> Posted:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not sessions.csrf_ok(user, form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)):
        raise CsrfRefused()
    form.pop(CSRF_FIELD, None)
    return Posted(user, form)


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("query", "path", "body")]
        out.append(FieldError(".".join(loc) or "request", str(e.get("msg", "is not valid"))))
    return out


def error_page(request: Request, status: int, title: str, detail: str, *, errors: Sequence[FieldError] = (),
               reason_code: str | None = None, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    return render(request, "error.html", status, title=title, detail=detail, errors=list(errors),
                  reason_code=reason_code, headers=headers)


class PageRoute(APIRoute):
    """A route whose failures are pages, in the user's language, never a traceback."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except Exception as exc:  # every failure becomes a page; see failure_page
                return failure_page(request, exc)

        return handler


def failure_page(request: Request, exc: Exception) -> Response:
    _ = gettext_for(request)  # after the session was read: in the user's language
    if isinstance(exc, SignInRequired):
        target = "/sign-in?next=" + quote(request.url.path) + ("&expired=1" if exc.expired else "")
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if isinstance(exc, CsrfRefused):
        return error_page(request, 403, _("Form refused"), _(
            "The form's security token (csrf_token) was missing or did not match this session. "
            "Reload the page and send the form again."), reason_code="deny.csrf")
    if isinstance(exc, QuotaExceeded):
        return error_page(request, 429, _("Too many lookups"), _(
            "The lookup quota for this hour is used up; try again later."),
            reason_code=exc.decision.reason_code, headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, AccessDenied):
        return error_page(request, 403, _("Not allowed"), _(
            "The access policy does not allow this request. The refusal has been recorded in the audit log."),
            reason_code=exc.decision.reason_code)
    if isinstance(exc, NotFound):
        return error_page(request, 404, _("Not found"), str(exc))
    if isinstance(exc, Conflict):
        return error_page(request, 409, _("Already decided or changed"), str(exc))
    if isinstance(exc, InvalidInput):
        return error_page(request, 422, _("Please correct the request"), _("Some values were not accepted:"),
                          errors=exc.errors)
    if isinstance(exc, RequestValidationError):
        return error_page(request, 422, _("Please correct the request"), _("Some values were not accepted:"),
                          errors=_field_errors(exc))
    if isinstance(exc, MatchingUnavailable):
        return error_page(request, 503, _("Matching unavailable"), _(
            "Lookups are not possible until the matcher is ready."))
    # The route's template, never the path itself: a path may hold a pseudonym, and logs hold none.
    log.error("page %s failed: %s", getattr(request.scope.get("route"), "path", "?"), type(exc).__name__,
              exc_info=exc)
    return error_page(request, 500, _("Something went wrong"), _(
        "The request could not be completed. Nothing was changed. If it happens again, tell the system "
        "administrator the time it happened."))
