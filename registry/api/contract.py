"""The API's contract beyond each route: every error documented as RFC 9457 problem details with an example,
415 for a body that is not JSON, and Idempotency-Key on the POSTs that create something.

- `ERRORS`: the problem+json schema and an example for each status a /v1 operation can answer; `errors(...)`
  picks those an operation can give, for the route decorators' `responses=`.
- `JsonBodiesOnly`: a /v1 request with a body must say `Content-Type: application/json` (or `+json`): 415.
- `idempotent(...)`: a POST with `Idempotency-Key` runs once; a retry with the same key and the same body gets
  the first answer again (`Idempotency-Replayed: true`); the same key with another body gets 422; a key still
  being worked on gets 409. Keys are per user and kept 24 hours (`registry.services.idempotency`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from registry.api.guard import problem_bytes
from registry.services import idempotency
from registry.services.actor import Actor
from registry.services.context import Registry

PROBLEM = "application/problem+json"


class FieldProblem(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details. `errors` names each rejected field and the reason; `reason_code` is the access
    policy's reason for a 403 or 429; `request_id` correlates with the server's log."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = None
    reason_code: str | None = None
    request_id: str | None = None


def _error(status: int, title: str, detail: str, description: str, **extra: Any) -> dict[str, Any]:
    example = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return {"description": description,
            "content": {PROBLEM: {"schema": Problem.model_json_schema(), "example": example}}}


ERRORS: dict[int, dict[str, Any]] = {
    401: _error(401, "Not authenticated", "A valid API token is required (Authorization: Bearer ...).",
                "No token, or an unknown, expired or revoked one (WWW-Authenticate: Bearer)."),
    403: _error(403, "Forbidden", "The access policy does not allow this request.",
                "The policy decision point said no; `reason_code` says why. The denial is in the audit log.",
                reason_code="deny.not-in-caseload"),
    404: _error(404, "Not found", "No child with that id is visible to you.", "Nothing with that id for you."),
    409: _error(409, "Conflict", "pair 17 was decided by someone else meanwhile",
                "The stored state changed, or an Idempotency-Key is still being worked on.",
                errors=[{"field": "pair_id", "reason": "pair 17 was decided by someone else meanwhile"}]),
    412: _error(412, "Precondition failed", "The record changed since you read it: read it again.",
                "If-Match does not match the current ETag."),
    413: _error(413, "Request too large", "The request body is limited to 1048576 bytes.",
                "The body is larger than the registry accepts."),
    415: _error(415, "Unsupported media type", "Send the body as application/json.",
                "The request body is not JSON."),
    422: _error(422, "Invalid input", "Some fields were rejected; nothing was stored.",
                "Each rejected field with its reason; nothing was stored.",
                errors=[{"field": "date_of_birth", "reason": "is in the future"}]),
    428: _error(428, "Precondition required", "Send If-Match with the ETag you read.",
                "An update needs If-Match."),
    429: _error(429, "Too many lookups", "The lookup quota for this hour is used up; try again later.",
                "The user's or agency's lookup quota is used up (Retry-After).", reason_code="deny.quota"),
    503: _error(503, "Matching unavailable", "Lookups are not possible until the matcher is ready.",
                "The matcher is not trained yet: a no-match answer would be false reassurance."),
}
# What any authenticated /v1 operation can answer.
COMMON = (401, 403, 413, 415, 422)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: ERRORS[s] for s in (*COMMON, *statuses)}


class JsonBodiesOnly:
    """ASGI: 415 for a /v1 request whose body is not declared JSON (the web pages post forms under /)."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH") \
                and scope["path"].startswith("/v1/"):
            headers = dict(scope.get("headers", []))
            kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            length = headers.get(b"content-length", b"")
            has_body = length not in (b"", b"0") or b"chunked" in headers.get(b"transfer-encoding", b"")
            if has_body and not (kind == b"application/json" or kind.endswith(b"+json")):
                body = problem_bytes(415, "Unsupported media type", "Send the body as application/json.")
                await send({"type": "http.response.start", "status": 415,
                            "headers": [(b"content-type", PROBLEM.encode()),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _fingerprint(request: Request, body: Any) -> str:
    raw = json.dumps(jsonable_encoder(body), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{request.method} {request.url.path}\n{raw}".encode()).hexdigest()


def idempotent(request: Request, reg: Registry, actor: Actor, body: Any, status_code: int,
               create: Callable[[], tuple[Any, int, dict[str, str]]]) -> Response:
    """Run `create` (returns the answer, its status and headers) once per Idempotency-Key, if one is sent."""
    key = request.headers.get("idempotency-key")
    if key is None:
        result, status, headers = create()
        return JSONResponse(jsonable_encoder(result), status_code=status, headers=headers)
    stored = idempotency.begin(reg, actor, key, _fingerprint(request, body))
    if stored is not None:  # a retry: the first answer again
        return JSONResponse(stored.body, status_code=stored.status, headers={**stored.headers,
                                                                             "Idempotency-Replayed": "true"})
    try:
        result, status, headers = create()
    except Exception:
        idempotency.abandon(reg, actor, key)  # the key may be used again: nothing was created
        raise
    encoded = jsonable_encoder(result)
    idempotency.finish(reg, actor, key, status, encoded, headers)
    return JSONResponse(encoded, status_code=status, headers=headers)
