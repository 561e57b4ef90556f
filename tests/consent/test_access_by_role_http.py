"""Every role through every action over real HTTP: status code and reason code, with and without consent,
before and after withdrawal and expiry. Each denial is a problem details document carrying the reason code,
and every decision -- permit or deny -- is in the audit log with the same reason code."""

from __future__ import annotations

import pytest

B_AGENCY = "sy-aleppo-cp"

SETUPS = {
    "none": [],
    "share-b": [dict(purpose="share", recipient=B_AGENCY)],
    "share-all": [dict(purpose="share", recipient="*")],
    "share-b-withdrawn": [dict(purpose="share", recipient=B_AGENCY, withdraw=True)],
    "share-b-expired": [dict(purpose="share", recipient=B_AGENCY, given_on="2024-01-01", expires_on="2024-12-31")],
    "dedup-withdrawn": [dict(purpose="deduplication", withdraw=True)],
}

# user, action, purpose, consent setup on child A (held by sy-homs-ngo) -> status, reason code
CASES = [
    ("cw_a", "read", "case-management", "none", 200, "permit.own-caseload"),
    ("admin_a", "read", "case-management", "none", 200, "permit.own-caseload"),
    ("cw_b", "read", "case-management", "none", 403, "deny.not-in-caseload"),
    ("cw_b", "read", "case-management", "share-b", 200, "permit.consent-to-share"),
    ("cw_b", "read", "case-management", "share-all", 200, "permit.consent-to-share"),
    ("cw_c", "read", "case-management", "share-b", 403, "deny.not-in-caseload"),
    ("cw_b", "read", "case-management", "share-b-withdrawn", 403, "deny.consent-withdrawn"),
    ("cw_b", "read", "case-management", "share-b-expired", 403, "deny.consent-expired"),
    ("reviewer", "read", "case-management", "none", 403, "deny.purpose"),
    ("reviewer", "read", "deduplication-review", "none", 200, "permit.deduplication-review"),
    ("reviewer", "read", "deduplication-review", "dedup-withdrawn", 403, "deny.consent-withdrawn"),
    ("dpo", "read", "case-management", "none", 403, "deny.purpose"),
    ("dpo", "read", "complaint-investigation", "none", 200, "permit.dpo-stated-purpose"),
    ("sysadmin", "read", "case-management", "none", 403, "deny.role"),
    ("cw_a", "register-own", "registration", "none", 201, "permit.own-agency"),
    ("admin_a", "register-own", "registration", "none", 201, "permit.own-agency"),
    ("cw_a", "register-other", "registration", "none", 403, "deny.other-agency"),
    ("reviewer", "register-own", "registration", "none", 403, "deny.role"),
    ("dpo", "register-own", "registration", "none", 403, "deny.role"),
    ("sysadmin", "register-own", "registration", "none", 403, "deny.role"),
    ("cw_a", "consent-read", "case-management", "none", 200, "permit.own-caseload"),
    ("cw_b", "consent-read", "case-management", "share-b", 403, "deny.not-in-caseload"),
    ("dpo", "consent-read", "audit-review", "none", 200, "permit.dpo-audit"),
    ("reviewer", "consent-read", "deduplication-review", "none", 200, "permit.deduplication-review"),
    ("sysadmin", "consent-read", "case-management", "none", 403, "deny.role"),
    ("cw_a", "consent-record", "case-management", "none", 201, "permit.own-caseload"),
    ("cw_b", "consent-record", "case-management", "none", 403, "deny.not-in-caseload"),
    ("reviewer", "consent-record", "deduplication-review", "none", 403, "deny.role"),
    ("dpo", "consent-record", "audit-review", "none", 403, "deny.role"),
    ("cw_a", "consent-withdraw", "case-management", "share-b", 200, "permit.own-caseload"),
    ("dpo", "consent-withdraw", "audit-review", "share-b", 200, "permit.dpo-audit"),
    ("cw_b", "consent-withdraw", "case-management", "share-b", 403, "deny.not-in-caseload"),
    ("sysadmin", "consent-withdraw", "case-management", "share-b", 403, "deny.role"),
    ("cw_a", "lookup", "registration", "none", 200, "permit.lookup"),
    ("admin_a", "lookup", "referral", "none", 200, "permit.lookup"),
    ("cw_a", "lookup", "deduplication-review", "none", 403, "deny.purpose"),
    ("reviewer", "lookup", "deduplication-review", "none", 200, "permit.lookup"),
    ("dpo", "lookup", "registration", "none", 403, "deny.role"),
    ("sysadmin", "lookup", "registration", "none", 403, "deny.role"),
    ("cw_b", "break-glass", "emergency", "none", 201, "permit.break-glass-allowed.imminent-risk"),
    ("reviewer", "break-glass", "emergency", "none", 201, "permit.break-glass-allowed.imminent-risk"),
    ("admin_a", "break-glass", "emergency", "none", 403, "deny.role"),
    ("dpo", "break-glass", "emergency", "none", 403, "deny.role"),
    ("sysadmin", "break-glass", "emergency", "none", 403, "deny.role"),
]

AUDIT_ACTION = {"register-own": "register", "register-other": "register"}


def _setup(world, child_a: str, setup: str) -> str | None:
    consent_id = None
    for spec in SETUPS[setup]:
        spec = dict(spec)
        withdraw = spec.pop("withdraw", False)
        consent_id = world.consent("cw_a", child_a, **spec)["consent_id"]
        if withdraw:
            r = world.post("cw_a", f"/v1/consents/{consent_id}/withdraw", json={"withdrawn_by": "caregiver"})
            assert r.status_code == 200, r.text
    return consent_id


def _request(world, user: str, action: str, purpose: str, child_a: str, consent_id: str | None):
    q = {"purpose": purpose}
    if action == "read":
        return world.get(user, f"/v1/children/{child_a}", params=q)
    if action.startswith("register"):
        body = {k: v for k, v in world.latin[1].items() if k != "institution"} | {"source_ref": "NEW-1"}
        if action == "register-other":
            body["institution"] = B_AGENCY
        return world.post(user, "/v1/children", json=body)
    if action == "consent-read":
        return world.get(user, f"/v1/children/{child_a}/consents", params=q)
    if action == "consent-record":
        body = {"purpose": "registration", "grantor": "guardian", "given_on": "2025-02-01",
                "evidence_ref": "form/2025/7"}
        return world.post(user, f"/v1/children/{child_a}/consents", json=body, params=q)
    if action == "consent-withdraw":
        return world.post(user, f"/v1/consents/{consent_id}/withdraw", json={"withdrawn_by": "guardian"}, params=q)
    if action == "lookup":
        row = world.arabic[1]
        body = {"purpose": purpose, "given_name": row["given_name"], "father_name": row["father_name"],
                "family_name": row["family_name"], "date_of_birth": row["date_of_birth"]}
        return world.post(user, "/v1/lookups", json=body)
    if action == "break-glass":
        body = {"reason_code": "imminent-risk", "reason": "Child reported missing from a shelter tonight"}
        return world.post(user, f"/v1/children/{child_a}/break-glass", json=body)
    raise AssertionError(action)


@pytest.mark.parametrize(("user", "action", "purpose", "setup", "status", "reason"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[3]}" for c in CASES])
def test_each_role_gets_the_status_and_reason_code_of_the_permission_table(
        world, user, action, purpose, setup, status, reason):
    child_a = world.register("cw_a", world.arabic[0], "HMS-0001")
    world.register("cw_b", world.latin[0], "ALP-0001")
    consent_id = _setup(world, child_a, setup)

    r = _request(world, user, action, purpose, child_a, consent_id)

    assert r.status_code == status, r.text
    if status == 403:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["reason_code"] == reason and r.json()["status"] == 403
    event = world.last_event(AUDIT_ACTION.get(action, action), user)
    assert event.reason_code == reason
    assert event.decision == ("permit" if status < 400 else "deny")
    assert (event.outcome == "denied") == (status == 403)


def test_withdrawing_consent_to_share_stops_disclosure_at_once(world):
    child_a = world.register("cw_a", world.arabic[0], "HMS-0001")
    consent_id = world.consent("cw_a", child_a, recipient=B_AGENCY)["consent_id"]
    assert world.get("cw_b", f"/v1/children/{child_a}").status_code == 200

    world.post("cw_a", f"/v1/consents/{consent_id}/withdraw", json={"withdrawn_by": "caregiver"})

    r = world.get("cw_b", f"/v1/children/{child_a}")
    assert r.status_code == 403 and r.json()["reason_code"] == "deny.consent-withdrawn"


def test_caseworker_sees_only_their_agencys_records_of_a_shared_child(world):
    child_a = world.register("cw_a", world.arabic[0], "HMS-0001")
    own = world.get("cw_a", f"/v1/children/{child_a}").json()
    assert [r["institution"] for r in own["records"]] == ["sy-homs-ngo"]
    assert own["records"][0]["identity"]["given_name"] == world.arabic[0]["given_name"]


def test_system_admin_and_dpo_never_receive_an_identity_by_default(world):
    child_a = world.register("cw_a", world.arabic[0], "HMS-0001")
    for user in ("sysadmin", "dpo"):
        r = world.get(user, f"/v1/children/{child_a}")
        assert r.status_code == 403
        assert world.arabic[0]["given_name"] not in r.text


def test_registering_defaults_to_the_callers_agency(world):
    child = world.register("cw_b", world.latin[0], "ALP-0001")
    rec = world.get("cw_b", f"/v1/children/{child}").json()["records"][0]
    assert rec["institution"] == B_AGENCY and rec["source_ref"] == "ALP-0001"


def test_unknown_child_is_404_and_the_attempt_is_logged(world):
    r = world.get("cw_a", "/v1/children/CR-2222-2222-222")
    assert r.status_code == 404
    assert world.last_event("read", "cw_a").reason_code == "deny.unknown-child"


def test_denials_are_logged_although_nothing_else_is_written(world):
    child_a = world.register("cw_a", world.arabic[0], "HMS-0001")
    before = world.reg.audit.size()
    world.get("cw_c", f"/v1/children/{child_a}")
    event = world.last_event("read", "cw_c")
    assert world.reg.audit.size() == before + 1
    assert event.outcome == "denied" and event.outside_caseload and event.children == (child_a,)
