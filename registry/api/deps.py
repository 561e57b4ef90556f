"""Dependencies injected into routes: the open registry and the caller (bearer token -> Actor).

Also the problem-details answers for access: 401 (no or bad token, with WWW-Authenticate: Bearer),
403 (the policy said no; `reason_code` says why) and 429 (lookup quota; with Retry-After).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from registry.api.problems import PROBLEM
from registry.services.access import AccessDenied, QuotaExceeded
from registry.services.accounts import actor_for_token
from registry.services.actor import Actor, Unauthenticated
from registry.services.context import Registry
from registry.services.lookups import MatchingUnavailable

_bearer = HTTPBearer(auto_error=False, description="An API token from `registry tokens create USERNAME`")


async def get_registry(request: Request) -> Registry:
    # Asynchronous: FastAPI runs a plain function dependency on a worker thread, a hop per request for nothing.
    return request.app.state.registry


async def bearer_token(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> str:
    """The caller's bearer token, present but not yet checked: for a route whose service checks it on the
    worker thread that does the work (one thread hop a request instead of two)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("no bearer token")
    return credentials.credentials


def current_actor(token: str = Depends(bearer_token), reg: Registry = Depends(get_registry)) -> Actor:
    return actor_for_token(reg, token)


def _problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None,
             **extra: object) -> JSONResponse:
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(Unauthenticated)
    async def _unauthenticated(_: Request, exc: Unauthenticated) -> JSONResponse:
        # The same answer for a missing, unknown, expired or revoked token: nothing to probe.
        return _problem(401, "Not authenticated", "A valid API token is required (Authorization: Bearer ...).",
                        headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(QuotaExceeded)
    async def _quota(_: Request, exc: QuotaExceeded) -> JSONResponse:
        return _problem(429, "Too many lookups", "The lookup quota for this hour is used up; try again later.",
                        headers={"Retry-After": str(exc.retry_after)}, reason_code=exc.decision.reason_code)

    @app.exception_handler(AccessDenied)
    async def _denied(_: Request, exc: AccessDenied) -> JSONResponse:
        return _problem(403, "Forbidden", "The access policy does not allow this request.",
                        reason_code=exc.decision.reason_code)

    @app.exception_handler(MatchingUnavailable)
    async def _no_matcher(_: Request, exc: MatchingUnavailable) -> JSONResponse:
        return _problem(503, "Matching unavailable", "Lookups are not possible until the matcher is ready.")
