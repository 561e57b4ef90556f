"""Schemathesis over every operation of the API, as every role: no 5xx, no traceback, bounded error answers.

Requests are generated from the OpenAPI schema (positive and negative data) and sent through the ASGI app
with each role's token and none. Bounded in time: REGISTRY_FUZZ_EXAMPLES per operation (8 here; the slow
variant sends 12: at 60 it took 2.5 minutes of the suite's 15 on 2 cores; examples are drawn afresh each run,
so CI's runs add up)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from registry.api import create_app

MAX_ERROR_BYTES = 16 * 1024  # an error answer stays small, however wrong the request


def _run(api_world, monkeypatch, examples: int) -> list[str]:
    monkeypatch.setattr("registry.services.lookups.MIN_SECONDS", 0)
    app = create_app(api_world.reg)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            for user in (None, *api_world.tokens):
                headers = {} if user is None else api_world.auth(user)
                response = case.call(headers=headers)
                where = f"{case.method} {case.formatted_path} as {user or 'anonymous'}"
                if response.status_code >= 500 or "Traceback" in response.text:
                    failures.append(f"{where}: {response.status_code} {response.text[:200]}")
                elif response.status_code >= 400 and len(response.content) > MAX_ERROR_BYTES:
                    failures.append(f"{where}: a {response.status_code} of {len(response.content)} bytes")

        check()
    return failures


def test_no_server_error_for_any_role(api_world, monkeypatch):
    failures = _run(api_world, monkeypatch, int(os.environ.get("REGISTRY_FUZZ_EXAMPLES", "8")))
    assert failures == [], "\n".join(sorted(set(failures))[:40])


@pytest.mark.slow
def test_no_server_error_for_any_role_longer(api_world, monkeypatch):
    failures = _run(api_world, monkeypatch, 12)
    assert failures == [], "\n".join(sorted(set(failures))[:40])
