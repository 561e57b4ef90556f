"""Mounting the pages on the API's FastAPI app: static files, Swagger UI served locally, security headers,
and the routers of each user's pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import cast

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.web.pages import error_page, gettext_for

STATIC = Path(__file__).parent / "static"
# Pages load nothing from another origin: the browser is told so too (and a test checks it in Chromium).
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
# Swagger UI's page starts the bundle with an inline script; still nothing from another origin.
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'")


class SecurityHeaders:
    """ASGI: the pages' security headers (the API's answers are left as they are). A plain ASGI middleware,
    not `@app.middleware("http")`: that one runs every request, API calls included, through a task group and
    a memory stream, which cost more of the server's CPU than some routes."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/v1") or path in ("/openapi.json", "/health"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", DOCS_CSP if path == "/docs" else PAGE_CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
                if not path.startswith("/static"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    """Add the pages to an app made by `registry.api.create_app`; its /docs (Swagger UI from a CDN) and /redoc
    are replaced by a /docs served from the app's own files."""
    from registry.web.routes import admin, audit, auth, caseworker, review

    app.router.routes = [r for r in app.router.routes if getattr(r, "path", None) not in ("/docs", "/redoc")]
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} - API",
                                   swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")

    app.add_middleware(SecurityHeaders)

    for module in (auth, review, audit, caseworker, admin):
        app.include_router(module.router, include_in_schema=False)

    # The API's handler (registry.api.problems) is a coroutine function, as FastAPI's default is.
    api_answer = cast(Callable[[Request, StarletteHTTPException], Awaitable[Response]],
                      app.exception_handlers.get(StarletteHTTPException, http_exception_handler))

    @app.exception_handler(StarletteHTTPException)
    async def not_found_page(request: Request, exc: StarletteHTTPException) -> Response:
        """A page that does not exist is a page too; the API keeps its own answers (problem details)."""
        if exc.status_code != 404 or request.url.path.startswith(("/v1", "/static", "/openapi")):
            return await api_answer(request, exc)
        _ = gettext_for(request)
        return error_page(request, 404, _("Not found"), _("There is no page at this address."))
