"""The HTTP API (FastAPI), versioned under /v1. Routes are thin: parse, call a service, shape the answer."""

from registry.api.app import create_app

__all__ = ["create_app"]
