"""The API's edge: body size limit, bounded errors, range-checked ids, authorization before existence,
request ids, and unexpected errors kept to their type."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from registry.api import create_app


@pytest.fixture
def client(api_world, monkeypatch):
    monkeypatch.setattr("registry.services.lookups.MIN_SECONDS", 0)
    with TestClient(create_app(api_world.reg), raise_server_exceptions=False) as c:
        yield c, api_world


def test_a_body_over_the_limit_is_413_declared_or_streamed(client):
    c, w = client
    big = b'{"source_ref": "' + b"x" * (1024 * 1024) + b'"}'
    r = c.post("/v1/children", content=big, headers={**w.auth("cw"), "content-type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")

    def chunks():
        for _ in range(40):
            yield b" " * 65536

    r = c.post("/v1/children", content=chunks(), headers={**w.auth("cw"), "content-type": "application/json"})
    assert r.status_code == 413


def test_many_unknown_fields_give_a_small_error(client):
    c, w = client
    body = {"source_ref": "A-1", **{f"field{i}": "x" for i in range(20_000)}}
    r = c.post("/v1/children", json=body, headers=w.auth("cw"))
    assert r.status_code == 422 and len(r.content) < 8000
    assert len(r.json()["errors"]) == 20 and "20000 problems" in r.json()["detail"]


@pytest.mark.parametrize("pair_id", [2**63, 2**63 + 1, 10**30, -1, 0])
def test_pair_ids_out_of_range_are_422_for_every_role(client, pair_id):
    c, w = client
    for user in w.tokens:
        for method, path in (("GET", f"/v1/review/pairs/{pair_id}"), ("POST", f"/v1/review/pairs/{pair_id}/decision")):
            r = c.request(method, path, headers=w.auth(user), json={"decision": "not-duplicate"})
            assert r.status_code == 422, (user, method, r.status_code, r.text[:200])


def test_a_role_that_may_not_review_cannot_tell_whether_a_pair_exists(client):
    c, w = client
    for user in ("cw", "admin", "dpo", "sysadmin"):
        for pid in (w.pair_id, 999_999):
            got = c.get(f"/v1/review/pairs/{pid}", headers=w.auth(user))
            decided = c.post(f"/v1/review/pairs/{pid}/decision", headers=w.auth(user),
                             json={"decision": "not-duplicate"})
            assert (got.status_code, decided.status_code) == (403, 403), (user, pid)
    # The reviewer does see the difference.
    assert c.get("/v1/review/pairs/999999", headers=w.auth("reviewer")).status_code == 404
    assert c.get(f"/v1/review/pairs/{w.pair_id}", headers=w.auth("reviewer")).status_code == 200


def test_a_non_ascii_audit_filter_is_422_and_never_reaches_a_log(client, caplog):
    c, w = client
    with caplog.at_level(logging.DEBUG):
        r = c.get("/v1/audit/events", params={"child": "محمد الحلبي"}, headers=w.auth("dpo"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "child"
    assert "محمد" not in r.text and "محمد" not in caplog.text


def test_unexpected_errors_are_logged_by_type_and_request_id_only(client, caplog, monkeypatch, capsys):
    c, w = client

    def boom(*_a, **_kw):
        raise ValueError("محمد الحلبي 2015-03-07")  # what a careless exception could carry

    monkeypatch.setattr("registry.services.children.registration.register_record", boom)
    with caplog.at_level(logging.DEBUG):
        r = c.post("/v1/children", json={"source_ref": "B-1", "given_name": "محمد"}, headers=w.auth("cw"))
    assert r.status_code == 500
    rid = r.headers["x-request-id"]
    assert r.json()["request_id"] == rid and "محمد" not in r.text and "ValueError" not in r.text
    assert f"unexpected error ValueError in request {rid}" in caplog.text
    assert "محمد" not in caplog.text and "2015-03-07" not in caplog.text
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "محمد" not in out.err


def test_request_ids_are_kept_or_made(client):
    c, _ = client
    assert c.get("/health", headers={"X-Request-ID": "abc-12345678"}).headers["x-request-id"] == "abc-12345678"
    made = c.get("/health", headers={"X-Request-ID": "<script>"}).headers["x-request-id"]
    assert made != "<script>" and len(made) == 16
