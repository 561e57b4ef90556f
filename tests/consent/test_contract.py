"""The API contract: problem details documented for every operation, 415 for a body that is not JSON,
Location on 201, and Idempotency-Key on the creating POSTs. Real HTTP, SQLite and PostgreSQL."""

from __future__ import annotations


def test_every_operation_documents_its_problems_with_an_example(world):
    spec = world.client.get("/openapi.json").json()
    operations = [(path, method, op) for path, item in spec["paths"].items() if path.startswith("/v1")
                  for method, op in item.items()]
    assert len(operations) >= 25
    for path, method, op in operations:
        for status in ("401", "403", "422"):
            content = op["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["example"]["status"] == int(status)
        assert "HTTPValidationError" not in str(op["responses"]["422"])
    assert "429" in spec["paths"]["/v1/lookups"]["post"]["responses"]
    assert "409" in spec["paths"]["/v1/review/pairs/{pair_id}/decision"]["post"]["responses"]


def test_a_body_that_is_not_json_gets_415(world):
    r = world.client.post("/v1/children", content="given_name=Omar", headers=world.auth("cw_a") | {
        "Content-Type": "text/plain"})
    assert r.status_code == 415 and r.headers["content-type"].startswith("application/problem+json")
    assert "application/json" in r.json()["detail"]


def test_created_children_and_consents_say_where_they_are(world):
    r = world.post("cw_a", "/v1/children", json={"source_ref": "LOC-1", "given_name": "ريم", "family_name": "Haddad"})
    assert r.status_code == 201 and r.headers["location"] == f"/v1/children/{r.json()['child_id']}"
    assert world.client.get(r.headers["location"], headers=world.auth("cw_a")).status_code == 200
    c = world.post("cw_a", f"/v1/children/{r.json()['child_id']}/consents", json={
        "purpose": "share", "grantor": "caregiver", "given_on": "2025-01-10", "recipient": "sy-aleppo-cp",
               "evidence_ref": "form/2025/0042"})
    assert c.status_code == 201 and c.headers["location"].endswith("/consents")


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(world):
    body = {"source_ref": "IDEM-1", "given_name": "Omar", "family_name": "الحلبي", "date_of_birth": "2016-04-02"}
    key = {"Idempotency-Key": "idem-key-0001"}
    first = world.client.post("/v1/children", json=body, headers=world.auth("cw_a") | key)
    again = world.client.post("/v1/children", json=body, headers=world.auth("cw_a") | key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotency-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    registered = [e for e in world.events() if e.action == "register" and e.children == (first.json()["child_id"],)]
    assert len(registered) == 1  # the retry did not run again
    other = world.client.post("/v1/children", json=body | {"given_name": "Amer"}, headers=world.auth("cw_a") | key)
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    # Keys are per user: another user's same key is another request.
    theirs = world.client.post("/v1/children", json=body | {"source_ref": "IDEM-2"},
                               headers=world.auth("cw_b") | key)
    assert theirs.status_code == 201 and theirs.json()["child_id"] != first.json()["child_id"]


def test_the_same_consent_posted_twice_with_a_key_is_recorded_once(world):
    child = world.register("cw_a", world.arabic[0], "HMS-0200")
    consent = {"purpose": "share", "grantor": "caregiver", "given_on": "2025-01-10", "recipient": "sy-aleppo-cp",
               "evidence_ref": "form/2025/0042"}
    key = {"Idempotency-Key": "consent-2025-0001"}
    for _ in range(2):
        r = world.client.post(f"/v1/children/{child}/consents", json=consent, headers=world.auth("cw_a") | key)
        assert r.status_code == 201
    listed = world.get("cw_a", f"/v1/children/{child}/consents").json()
    assert len(listed) == 1
    bad = world.client.post(f"/v1/children/{child}/consents", json=consent,
                            headers=world.auth("cw_a") | {"Idempotency-Key": "bad key with spaces"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "Idempotency-Key"


def test_an_identity_changes_only_by_an_explicit_update_with_if_match(world):
    body = {"source_ref": "UPD-1", "given_name": "محمد", "family_name": "الحلبي", "date_of_birth": "2015-03-02"}
    made = world.post("cw_a", "/v1/children", json=body)
    assert made.status_code == 201
    child = made.json()["child_id"]
    assert world.post("cw_a", "/v1/children", json=body).json()["outcome"] == "unchanged"
    changed = world.post("cw_a", "/v1/children", json=body | {"given_name": "Mohammed"})
    assert changed.status_code == 409 and changed.json()["errors"][0]["field"] == "source_ref"

    read = world.get("cw_a", "/v1/records/UPD-1")
    assert read.status_code == 200 and read.json()["identity"]["given_name"] == "محمد"
    etag = read.headers["etag"]
    new = {"given_name": "Mohammed", "family_name": "Al-Halabi", "date_of_birth": "2015-03-02"}
    auth = world.auth("cw_a")
    assert world.client.put("/v1/records/UPD-1", json=new, headers=auth).status_code == 428
    stale = world.client.put("/v1/records/UPD-1", json=new, headers=auth | {"If-Match": '"0000"'})
    assert stale.status_code == 412
    done = world.client.put("/v1/records/UPD-1", json=new, headers=auth | {"If-Match": etag})
    assert done.status_code == 200 and done.json()["child_id"] == child
    assert done.headers["etag"] != etag and done.json()["identity"]["given_name"] == "Mohammed"
    again = world.client.put("/v1/records/UPD-1", json=new | {"given_name": "Mhd"}, headers=auth | {"If-Match": etag})
    assert again.status_code == 412  # the version read before the first update is stale now
    # Another agency's caseworker cannot even see that the reference exists.
    assert world.get("cw_b", "/v1/records/UPD-1").status_code == 404
