"""The review API over real HTTP (uvicorn on a socket), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from registry.accounts.secrets_ import hash_password
from registry.services.accounts import create_token
from registry.store.tables.accounts import Agency, User

_HASH = hash_password("a generated test password")


@pytest.fixture
def http(live_app, kit):
    client, reg = live_app
    from registry.store.db import Base

    Base.metadata.create_all(reg.db.engine)  # review tables, until their migration exists
    with reg.db.unit_of_work() as s:
        s.add_all([Agency(code="national-unit", name="National case-management unit", governorate="SY-DI"),
                   Agency(code="sy-homs-ngo", name="جمعية حماية الطفل - حمص", governorate="SY-HI")])
        s.flush()
        s.add_all([User(user_id=kit.reviewer.user_id, username="reviewer", agency="national-unit",
                        role="national_reviewer", password_hash=_HASH),
                   User(user_id=kit.caseworker.user_id, username="cw_a", agency="sy-homs-ngo", role="caseworker",
                        password_hash=_HASH)])
    tokens = {u: {"Authorization": f"Bearer {create_token(reg, u).token}"} for u in ("reviewer", "cw_a")}
    return client, reg, tokens


def test_review_lifecycle_over_http(http, kit):
    client, reg, auth = http
    (ca, ra), (cb, rb), (_cc, rc) = (kit.register(reg, row) for row in kit.mohammed)
    ab, ac = kit.queue_pair(reg, ra, rb, 0.98), kit.queue_pair(reg, ra, rc, 0.91)

    assert client.get("/v1/review/queue").status_code == 401
    denied = client.get("/v1/review/queue", headers=auth["cw_a"])
    assert denied.status_code == 403 and denied.json()["reason_code"] == "deny.not-in-caseload"
    q = client.get("/v1/review/queue", headers=auth["reviewer"]).json()
    assert q["total"] == 1  # two pairs sharing a child: one cluster
    assert [p["pair_id"] for p in q["clusters"][0]["pairs"]] == [ab, ac] and len(q["clusters"][0]["children"]) == 3
    assert client.get("/v1/review/queue", params={"governorate": "EG-C"}, headers=auth["reviewer"]).json()["total"] == 1
    assert client.get("/v1/review/queue", params={"institution": "x-none"},
                      headers=auth["reviewer"]).json()["total"] == 0

    plain = client.get(f"/v1/review/pairs/{ab}", headers=auth["reviewer"]).json()
    assert plain["identities"] is None
    side_by_side = client.get(f"/v1/review/pairs/{ab}", params={"purpose": "deduplication-review"},
                              headers=auth["reviewer"]).json()
    assert {i["given_name"] for i in side_by_side["identities"].values()} == {"محمد", "Mohammed"}
    assert side_by_side["golden_preview"]["values"]["family_name"] == "الحلبي"
    wrong = client.get(f"/v1/review/pairs/{ab}", params={"purpose": "case-management"}, headers=auth["reviewer"])
    assert wrong.status_code == 403 and wrong.json()["reason_code"] == "deny.purpose"

    bad = client.post(f"/v1/review/pairs/{ab}/decision", headers=auth["reviewer"],
                      json={"decision": "merge", "overrides": {"given_name": "R-not-theirs"}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "overrides.given_name"
    merged = client.post(f"/v1/review/pairs/{ab}/decision", headers=auth["reviewer"],
                         json={"decision": "merge", "overrides": {"given_name": rb}})
    assert merged.status_code == 200, merged.text
    m = merged.json()
    assert (m["survivor"], m["absorbed"], m["golden_sources"]["given_name"]) == (ca, cb, rb)
    again = client.post(f"/v1/review/pairs/{ab}/decision", headers=auth["reviewer"], json={"decision": "merge"})
    assert again.status_code == 409

    lin = client.get(f"/v1/children/{cb}/lineage", headers=auth["reviewer"]).json()
    assert lin["current"] == ca and lin["redirected"] and lin["merges"][0]["merge_id"] == m["merge_id"]
    assert client.get(f"/v1/children/{cb}", params={"purpose": "deduplication-review"},
                      headers=auth["reviewer"]).json()["child_id"] == ca  # the old pseudonym is redirected

    undone = client.post(f"/v1/review/merges/{m['merge_id']}/undo", headers=auth["reviewer"])
    assert undone.status_code == 200 and undone.json()["restored"] == cb
    assert client.post(f"/v1/review/merges/{m['merge_id']}/undo", headers=auth["reviewer"]).status_code == 409
    lin = client.get(f"/v1/children/{cb}/lineage", headers=auth["reviewer"]).json()
    assert not lin["redirected"] and lin["merges"][0]["undone_at"]

    rejected = client.post(f"/v1/review/pairs/{ac}/decision", headers=auth["reviewer"],
                           json={"decision": "not-duplicate"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert client.post("/v1/review/pairs/999999/decision", headers=auth["reviewer"],
                       json={"decision": "merge"}).status_code == 404
    assert client.post(f"/v1/review/pairs/{ab}/decision", headers=auth["cw_a"],
                       json={"decision": "merge"}).json()["reason_code"] == "deny.role"
