"""Errors as RFC 9457 problem details: the field and the reason, never a stack trace or internal detail."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.errors import Conflict, InvalidInput, NotFound, Stale

log = logging.getLogger("registry.api")
PROBLEM = "application/problem+json"
MAX_ERRORS = 20  # an error response stays small however many fields a request gets wrong


def problem(status: int, title: str, detail: str | None = None, errors: list[dict] | None = None,
            type_: str = "about:blank", headers: dict | None = None) -> JSONResponse:
    body: dict = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field_of(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(InvalidInput)
    async def _invalid(_: Request, exc: InvalidInput):
        return problem(422, "Invalid input", "Some fields were rejected; nothing was stored.",
                       [e.as_dict() for e in exc.errors[:MAX_ERRORS]])

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, exc: RequestValidationError):
        errors = []
        found = exc.errors()
        for e in found[:MAX_ERRORS]:
            # Pydantic's message, without echoing the submitted value back (it may be personal data); a field
            # name a client made up is cut short.
            errors.append({"field": _field_of(tuple(e.get("loc", ())))[:64],
                           "reason": str(e.get("msg", "invalid"))[:200]})
        detail = "The request does not have the expected shape."
        if len(found) > MAX_ERRORS:
            detail += f" {len(found)} problems; the first {MAX_ERRORS} are listed."
        return problem(422, "Invalid input", detail, errors)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound):
        return problem(404, "Not found", f"No {exc.what} with that id is visible to you.")

    @app.exception_handler(Stale)
    async def _stale(_: Request, exc: Stale):
        if exc.required:
            return problem(428, "Precondition required", "Send If-Match with the ETag you read.")
        return problem(412, "Precondition failed", "The record changed since you read it: read it again.")

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict):
        errors = [{"field": exc.field, "reason": exc.reason}] if exc.field else None
        return problem(409, "Conflict", exc.reason, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        return problem(exc.status_code, str(exc.detail) if exc.detail else "Error",
                       headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        # Logged by type only: the exception text could carry personal data.
        log.error("unexpected error: %s", type(exc).__name__)
        return problem(500, "Internal error", "The request could not be completed; nothing was half-written.")
