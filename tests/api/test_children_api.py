"""The HTTP API over real sockets: register, read, problem details on bad input, no internals leaked."""

import pytest

from registry.services.accounts import create_agency, create_token, create_user
from registry.store.db import Base


@pytest.fixture
def live_app(live_app):
    """The live server, called by a caseworker of ngo-homs-1 with a bearer token."""
    client, reg = live_app
    Base.metadata.create_all(reg.db.engine)  # accounts/consent tables, until their migration exists
    create_agency(reg, "ngo-homs-1", "جمعية رعاية الطفولة - حمص", "SY-HI")
    create_user(reg, "caseworker.homs", "ngo-homs-1", "caseworker", "correct horse battery staple")
    client.headers["Authorization"] = "Bearer " + create_token(reg, "caseworker.homs").token
    return client, reg


def body(**kw):
    b = {"source_ref": "K-77", "institution": "ngo-homs-1", "given_name": "عُمَر", "father_name": "خالد",
         "family_name": "الأتاسي", "sex": "M", "date_of_birth": "2014-07-01", "governorate": "SY-HI"}
    b.update(kw)
    return b


def test_register_then_get_returns_the_child(live_app):
    client, _ = live_app
    r = client.post("/v1/children", json=body())
    assert r.status_code == 201, r.text
    child_id = r.json()["child_id"]
    assert child_id.startswith("CR-") and r.json()["outcome"] == "created"
    got = client.get(f"/v1/children/{child_id}")
    assert got.status_code == 200
    rec = got.json()["records"][0]
    assert rec["institution"] == "ngo-homs-1" and rec["identity"]["given_name"] == "عُمَر"


def test_registering_the_same_record_again_is_idempotent(live_app):
    client, _ = live_app
    first = client.post("/v1/children", json=body()).json()
    again = client.post("/v1/children", json=body())
    assert again.status_code == 200 and again.json() == {"child_id": first["child_id"], "outcome": "unchanged"}


def test_bad_fields_are_named_with_reasons_in_problem_details(live_app):
    client, _ = live_app
    r = client.post("/v1/children", json=body(date_of_birth="2014-02-30", governorate="Narnia", sex="?"))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = {e["field"]: e["reason"] for e in r.json()["errors"]}
    assert set(errors) == {"date_of_birth", "governorate", "sex"}
    assert errors["date_of_birth"] == "the day does not exist in that month"


def test_malformed_json_and_unknown_fields_are_rejected_by_field(live_app):
    client, _ = live_app
    r = client.post("/v1/children", json={"given_name": "Ali", "diagnosis": "x"})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"source_ref", "diagnosis"}
    r = client.post("/v1/children", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "Traceback" not in r.text


def test_unknown_or_malformed_child_id_is_404_without_detail(live_app):
    client, _ = live_app
    for cid in ("CR-2222-2222-222", "nonsense", "'; drop table children; --"):
        r = client.get(f"/v1/children/{cid}")
        assert r.status_code == 404
        assert r.json()["title"] == "Not found"


def test_health_and_openapi_are_served(live_app):
    client, _ = live_app
    assert client.get("/health").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert "/v1/children" in spec["paths"]
