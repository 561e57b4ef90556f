"""Dependencies injected into routes: the open registry and (later) the caller and its policy checks."""

from __future__ import annotations

from fastapi import Request

from registry.services.context import Registry


def get_registry(request: Request) -> Registry:
    return request.app.state.registry
