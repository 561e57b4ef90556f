"""The DPO's HTTP view of the access log: only a DPO reads it, readings are logged, proofs verify."""

import base64

import nacl.signing

from registry.audit.checkpoint import open_checkpoint
from registry.audit.event import entry_bytes
from registry.audit.merkle import hash_leaf, verify_inclusion
from registry.services import accounts
from registry.store.db import Base


def _world(reg):
    Base.metadata.create_all(reg.db.engine)  # tables without a migration yet, if any
    accounts.create_agency(reg, "sy-hama-ngo", "جمعية رعاية الطفل - حماة", "SY-HM")
    accounts.create_agency(reg, "national-unit", "National case-management unit", "SY-DI")
    accounts.create_user(reg, "cw-hama", "sy-hama-ngo", "caseworker", "a generated test password")
    accounts.create_user(reg, "dpo", "national-unit", "dpo", "a generated test password")
    return {u: {"Authorization": f"Bearer {accounts.create_token(reg, u).token}"} for u in ("cw-hama", "dpo")}


def test_only_the_dpo_reads_the_log_and_every_reading_is_logged(live_app):
    client, reg = live_app
    auth = _world(reg)
    r = client.post("/v1/children", headers=auth["cw-hama"], json={
        "source_ref": "H-1", "given_name": "ريم", "father_name": "Samer", "family_name": "Haddad",
        "date_of_birth": "2018-02-03", "sex": "F"})
    assert r.status_code == 201, r.text
    child = r.json()["child_id"]

    denied = client.get("/v1/audit/events", headers=auth["cw-hama"])
    assert denied.status_code == 403 and denied.json()["reason_code"] == "deny.role"

    page = client.get("/v1/audit/events", headers=auth["dpo"], params={"child": child})
    assert page.status_code == 200
    events = page.json()["events"]
    assert [e["action"] for e in events] == ["register"] and events[0]["children"] == [child]
    assert "ريم" not in page.text and "Haddad" not in page.text and "2018-02-03" not in page.text

    reads = client.get("/v1/audit/events", headers=auth["dpo"], params={"action": "audit-read"}).json()["events"]
    # The caseworker's refused attempt is in the log, and so is the DPO's own reading.
    assert [(e["role"], e["outcome"]) for e in reads[:2]] == [("caseworker", "denied"), ("dpo", "success")]

    csv_page = client.get("/v1/audit/events", headers=auth["dpo"], params={"format": "csv"})
    assert csv_page.headers["content-type"].startswith("text/csv") and csv_page.text.startswith("index,")


def test_checkpoint_and_inclusion_proof_verify_with_the_public_key_only(live_app):
    client, reg = live_app
    auth = _world(reg)
    for i in range(5):
        client.post("/v1/children", headers=auth["cw-hama"], json={"source_ref": f"P-{i}", "given_name": "Omar"})
    reg.audit.checkpoint()
    key = nacl.signing.VerifyKey(base64.b64decode(client.get("/v1/audit/public-key", headers=auth["dpo"]).text))
    note = client.get("/v1/audit/checkpoint", headers=auth["dpo"]).text
    cp = open_checkpoint(note, key, reg.audit.origin)
    proof = client.get("/v1/audit/proofs/inclusion", headers=auth["dpo"],
                       params={"index": 2, "tree_size": cp.size}).json()
    entry = reg.audit.entry(2)
    leaf = hash_leaf(entry_bytes(entry.index, entry.prev_hash, entry.event))
    path = [base64.b64decode(h) for h in proof["audit_path"]]
    assert verify_inclusion(leaf, 2, cp.size, path, cp.root_hash)
    assert not verify_inclusion(leaf, 3, cp.size, path, cp.root_hash)


def test_bad_time_range_is_rejected_by_field(live_app):
    client, reg = live_app
    auth = _world(reg)
    r = client.get("/v1/audit/events", headers=auth["dpo"],
                   params={"since": "2026-02-01T00:00:00", "until": "2026-01-01T00:00:00"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "until"


def _valid_fhir(resource: dict) -> None:
    """fhir.resources (R5) accepts the resource and, for a Bundle, every resource in it."""
    from fhir.resources import get_fhir_model_class

    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        _valid_fhir(entry["resource"])


def test_fhir_audit_events_are_valid_r5_paged_by_bundle_links(live_app):
    client, reg = live_app
    auth = _world(reg)
    for i, name in enumerate(["ريم", "Reem", "سامر"]):
        client.post("/v1/children", headers=auth["cw-hama"], json={"source_ref": f"F-{i}", "given_name": name})
    first = client.get("/v1/audit/events", headers=auth["dpo"], params={"format": "fhir", "limit": 2})
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/fhir+json")
    bundle = first.json()
    _valid_fhir(bundle)
    assert bundle["type"] == "searchset" and len(bundle["entry"]) == 2 and "next_after" not in bundle
    nxt = next(link["url"] for link in bundle["link"] if link["relation"] == "next")
    second = client.get(nxt.replace(str(client.base_url), ""), headers=auth["dpo"]).json()
    _valid_fhir(second)
    ids = [e["resource"]["id"] for e in bundle["entry"] + second["entry"]]
    assert ids == [str(i) for i in range(len(ids))] and len(ids) >= 4  # no gap, no repeat across pages
    assert "ريم" not in first.text + str(second) and "Reem" not in first.text


def test_the_capability_statement_says_what_fhir_is_served(live_app):
    client, _ = live_app
    r = client.get("/metadata")  # public, like /health: it names no child and no user
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    _valid_fhir(r.json())
    assert {x["type"] for x in r.json()["rest"][0]["resource"]} == {"AuditEvent", "Consent"}
