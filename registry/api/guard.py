"""The edge of the HTTP API: request ids, a body size limit, and no unexpected error escaping with its text.

`Guard` is a plain ASGI middleware placed around the FastAPI app's routes:

- Every request gets an id (`X-Request-ID`: the client's, if it is a short token, else a new one), returned in
  the response and kept in `request.state.request_id` for the audit log and the server's log lines.
- A body larger than `max_body_bytes` (default 1 MiB; `REGISTRY_MAX_BODY_BYTES`) gets 413 before any route
  reads it, whether it declares its length or streams it in chunks.
- An unexpected exception is logged as its type and the request id only (never its text, which may quote what
  the client sent) and answered 500 as a problem detail. It is not re-raised, so no server traceback holds it.
- One log line per request: method, route template (not the raw path or query), status, time, request id.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from registry.api.metrics import observe
from registry.audit.event import CURRENT_REQUEST_ID

log = logging.getLogger("registry.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
PROBLEM = "application/problem+json"


def problem_bytes(status: int, title: str, detail: str, request_id: str | None = None) -> bytes:
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if request_id:
        body["request_id"] = request_id
    return json.dumps(body).encode()


def route_template(scope: Scope) -> str:
    """The matched route's template with its router's prefix ("/v1/children/{child_id}"): never the raw path,
    which may hold a pseudonym. "unmatched" when no route matched."""
    route = scope.get("route")
    path_format = getattr(route, "path_format", None)
    if not path_format:
        return "unmatched"
    try:
        rendered = path_format.format(**scope.get("path_params", {}))
    except (KeyError, IndexError, ValueError):
        return path_format
    path = scope.get("path", "")
    prefix = path[: len(path) - len(rendered)] if rendered and path.endswith(rendered) else ""
    return prefix + path_format


class Guard:
    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.fullmatch(given) else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        CURRENT_REQUEST_ID.set(request_id)  # every audit event of this request carries it
        started = time.monotonic()
        status_sent: list[int] = []

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_sent.append(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        async def answer(status: int, title: str, detail: str) -> None:
            body = problem_bytes(status, title, detail, request_id)
            await send_with_id({"type": "http.response.start", "status": status,
                                "headers": [(b"content-type", PROBLEM.encode()),
                                            (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        try:
            declared = headers.get("content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
                await answer(413, "Request too large",
                             f"The request body is limited to {self.max_body_bytes} bytes.")
                return
            # Read the body here (bounded), then replay it to the app: a chunked body cannot slip past the limit.
            chunks, size, more = [], 0, True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body_bytes:
                    await answer(413, "Request too large",
                                 f"The request body is limited to {self.max_body_bytes} bytes.")
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send_with_id)
        except Exception as e:  # noqa: BLE001 - nothing unexpected may reach a client or a log with its text
            log.error("unexpected error %s in request %s", type(e).__name__, request_id)
            if not status_sent:
                await answer(500, "Internal error",
                             "The request could not be completed; nothing was half-written. "
                             "Quote the request id when reporting this.")
        finally:
            template = route_template(scope)
            observe(template, scope.get("method", "-"), status_sent[0] if status_sent else "-",
                    time.monotonic() - started)
            log.info("%s %s %s %.0fms request %s", scope.get("method"), template,
                     status_sent[0] if status_sent else "-", (time.monotonic() - started) * 1000, request_id)
