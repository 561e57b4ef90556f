"""What the registry tells other systems about itself: the FHIR CapabilityStatement."""

from __future__ import annotations

from typing import Any

from registry import __version__, fhir
from registry.services.context import Registry
from registry.store.db import utcnow


def capability_statement(reg: Registry) -> dict[str, Any]:  # noqa: ARG001 (the same for every registry)
    return fhir.capability_statement(__version__, utcnow().date().isoformat())
