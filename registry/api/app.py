"""The FastAPI application factory."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from registry import __version__
from registry.api import deps, problems
from registry.api.contract import JsonBodiesOnly, errors
from registry.api.guard import Guard
from registry.api.routes import admin, audit, breakglass, children, consent, health, lookups, review
from registry.logs import configure_json_logs
from registry.services.context import Registry, open_registry


@asynccontextmanager
async def _lifespan(app: FastAPI):
    """The lookups warmed up (`services.lookups.warm_up`), and the audit log's checkpoints on a timer while the
    server runs (`registry.audit.scheduler`)."""
    from registry.audit.scheduler import Checkpointer
    from registry.services.lookups import warm_up

    reg: Registry = app.state.registry
    # As many request threads as database connections: a request never holds a thread waiting for one.
    anyio.to_thread.current_default_thread_limiter().total_tokens = reg.settings.db_pool_size
    # Before the first request (not by every thread of the first requests at once), and kept out of the
    # garbage collector's passes.
    warm_up(reg)
    seconds = reg.settings.audit_checkpoint_seconds
    timer = None
    if seconds or reg.settings.audit_checkpoint_every:
        timer = Checkpointer(reg.audit, tick=min(5.0, seconds / 2) if seconds else 5.0).start()
    try:
        yield
    finally:
        if timer is not None:
            timer.stop()
        reg.audit.close()


def create_app(registry: Registry | None = None) -> FastAPI:
    if os.environ.get("REGISTRY_JSON_LOGS") == "1":
        configure_json_logs()
    app = FastAPI(
        lifespan=_lifespan,
        title="Child case registry",
        version=__version__,
        description="Is this child already known, and to whom? Pseudonymised identities, consent-bound access, "
        "tamper-evident audit. Errors are RFC 9457 problem details naming the field and the reason.",
    )
    app.state.registry = registry or open_registry()
    app.add_middleware(JsonBodiesOnly)  # 415 for a /v1 body that is not JSON (inside the guard: it gets an id)
    # Outermost but for Starlette's own error layer: ids, body limit, unexpected errors kept to their type.
    app.add_middleware(Guard, max_body_bytes=app.state.registry.settings.max_body_bytes)
    problems.install(app)
    deps.install(app)  # 401 / 403 / 429 as problem details
    app.include_router(health.router)
    # Every /v1 operation documents the problem details it can answer (401, 403, 413, 415, 422 and its own).
    for router in (children.router, consent.router, lookups.router, breakglass.router, admin.router,
                   review.router, audit.router):
        app.include_router(router, prefix="/v1", responses=errors())
    return app
