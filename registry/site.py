"""What `registry serve` runs: the HTTP API (`registry.api`, under /v1) and the web pages (`registry.web`,
under /) on one FastAPI app. The two faces stay independent of each other; this module puts them together."""

from __future__ import annotations

from fastapi import FastAPI

from registry.api import create_app
from registry.services.context import Registry
from registry.web import install as install_pages


def create_site(registry: Registry | None = None) -> FastAPI:
    app = create_app(registry)
    install_pages(app)
    return app
