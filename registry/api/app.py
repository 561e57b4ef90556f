"""The FastAPI application factory."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from registry import __version__
from registry.api import deps, problems
from registry.api.guard import Guard
from registry.api.routes import admin, audit, breakglass, children, consent, health, lookups, review
from registry.services.context import Registry, open_registry


@asynccontextmanager
async def _lifespan(app: FastAPI):
    """The audit log's checkpoints on a timer while the server runs (`registry.audit.scheduler`)."""
    from registry.audit.scheduler import Checkpointer

    reg: Registry = app.state.registry
    seconds = reg.settings.audit_checkpoint_seconds
    timer = None
    if seconds or reg.settings.audit_checkpoint_every:
        timer = Checkpointer(reg.audit, tick=min(5.0, seconds / 2) if seconds else 5.0).start()
    try:
        yield
    finally:
        if timer is not None:
            timer.stop()


def create_app(registry: Registry | None = None) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title="Child case registry",
        version=__version__,
        description="Is this child already known, and to whom? Pseudonymised identities, consent-bound access, "
        "tamper-evident audit. Errors are RFC 9457 problem details naming the field and the reason.",
    )
    app.state.registry = registry or open_registry()
    # Outermost but for Starlette's own error layer: ids, body limit, unexpected errors kept to their type.
    app.add_middleware(Guard, max_body_bytes=app.state.registry.settings.max_body_bytes)
    problems.install(app)
    deps.install(app)  # 401 / 403 / 429 as problem details
    app.include_router(health.router)
    app.include_router(children.router, prefix="/v1")
    for router in (consent.router, lookups.router, breakglass.router, admin.router):
        app.include_router(router, prefix="/v1")
    app.include_router(review.router, prefix="/v1")  # the national unit's review (issue 7)
    app.include_router(audit.router, prefix="/v1")  # the DPO's view of the access log
    return app
