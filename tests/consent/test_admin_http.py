"""Administration over HTTP through the policy decision point: agencies for the system administrator; users,
roles and tokens for an agency administrator within their own agency; the directory of users for the DPO;
sharing a child as its consent to share allows. Real HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

PASSWORD = "another generated password"


def test_agencies_are_the_system_administrators(world):
    body = {"code": "sy-hama-ngo", "name": "جمعية رعاية الطفل - حماة", "governorate": "SY-HM"}
    denied = world.post("admin_a", "/v1/agencies", json=body)
    assert denied.status_code == 403 and denied.json()["reason_code"] == "deny.role"
    made = world.post("sysadmin", "/v1/agencies", json=body)
    assert made.status_code == 201 and made.headers["location"] == "/v1/agencies/sy-hama-ngo"
    assert made.json()["governorate"] == "SY-HM"
    bad = world.post("sysadmin", "/v1/agencies", json=body | {"code": "x y", "governorate": "Atlantis"})
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} >= {"code", "governorate"}
    listed = world.get("cw_a", "/v1/agencies").json()
    assert "sy-hama-ngo" in {a["code"] for a in listed}
    assert world.last_event("admin", "admin_a").decision == "deny"


def test_an_agency_admin_manages_only_their_own_agency(world):
    made = world.post("admin_a", "/v1/users", json={"username": "rana.homs", "role": "caseworker",
                                                     "password": PASSWORD})
    assert made.status_code == 201 and made.headers["location"] == "/v1/users/rana.homs"
    assert made.json()["agency"] == "sy-homs-ngo" and "password" not in made.text
    elsewhere = world.post("admin_a", "/v1/users", json={"username": "x.aleppo", "agency": "sy-aleppo-cp",
                                                          "role": "caseworker", "password": PASSWORD})
    assert elsewhere.status_code == 403
    too_high = world.post("admin_a", "/v1/users", json={"username": "x.dpo", "role": "dpo", "password": PASSWORD})
    assert too_high.status_code == 422 and too_high.json()["errors"][0]["field"] == "role"

    users = world.get("admin_a", "/v1/users").json()
    assert {u["agency"] for u in users} == {"sy-homs-ngo"} and "rana.homs" in {u["username"] for u in users}
    # Another agency's user is "not found" to them, whether it exists or not: no probing of usernames.
    assert world.client.patch("/v1/users/cw_b", json={"active": False},
                              headers=world.auth("admin_a")).status_code == 404
    assert world.client.patch("/v1/users/nobody.at.all", json={"active": False},
                              headers=world.auth("admin_a")).status_code == 404


def test_tokens_disable_and_password_reset_take_effect_at_once(world):
    world.post("admin_a", "/v1/users", json={"username": "omar.homs", "role": "caseworker", "password": PASSWORD})
    issued = world.post("admin_a", "/v1/users/omar.homs/tokens", json={"days": 7})
    assert issued.status_code == 201 and issued.headers["location"].startswith("/v1/tokens/T")
    token = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert world.client.get("/v1/me", headers=token).json()["username"] == "omar.homs"
    listed = world.get("admin_a", "/v1/users/omar.homs/tokens").json()
    assert [t["token_id"] for t in listed] == [issued.json()["token_id"]] and "token" not in listed[0]

    off = world.client.patch("/v1/users/omar.homs", json={"active": False}, headers=world.auth("admin_a"))
    assert off.status_code == 200 and off.json()["active"] is False
    assert world.client.get("/v1/me", headers=token).status_code == 401
    world.client.patch("/v1/users/omar.homs", json={"active": True}, headers=world.auth("admin_a"))
    assert world.client.get("/v1/me", headers=token).status_code == 200
    revoked = world.client.delete(f"/v1/tokens/{issued.json()['token_id']}", headers=world.auth("admin_a"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert world.client.get("/v1/me", headers=token).status_code == 401

    from registry.services.accounts import login

    short = world.post("admin_a", "/v1/users/omar.homs/password", json={"password": "short"})
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "password"
    assert world.post("admin_a", "/v1/users/omar.homs/password", json={"password": "a new long password"}).is_success
    assert login(world.reg, "omar.homs", "a new long password").username == "omar.homs"


def test_the_dpo_reads_the_directory_of_users_and_a_caseworker_does_not(world):
    users = world.get("dpo", "/v1/users")
    assert users.status_code == 200
    by_id = {u["user_id"]: u for u in users.json()}
    assert by_id[world.user_id("cw_b")]["username"] == "cw_b"  # maps an audit event's user id to a person
    assert {u["agency"] for u in users.json()} >= {"sy-homs-ngo", "sy-aleppo-cp", "eg-cairo-mss"}
    assert "password" not in users.text
    assert world.get("cw_a", "/v1/users").status_code == 403


def test_sharing_a_child_follows_the_consent_to_share(world):
    child = world.register("cw_a", world.arabic[0], "HMS-0100")
    none_yet = world.post("cw_a", f"/v1/children/{child}/shares", json={"recipient": "sy-aleppo-cp"})
    assert none_yet.status_code == 403 and none_yet.json()["reason_code"] == "deny.no-consent-to-share"
    assert world.get("cw_b", f"/v1/children/{child}").status_code == 403
    world.consent("cw_a", child, recipient="sy-aleppo-cp")
    shared = world.post("cw_a", f"/v1/children/{child}/shares", json={"recipient": "sy-aleppo-cp"})
    assert shared.status_code == 201, shared.text
    assert shared.json()["focal_point_role"] == "case management supervisor"
    assert shared.json()["legal_basis"].startswith("consent:")
    assert world.last_event("share", "cw_a").children == (child,)
    assert world.get("cw_b", f"/v1/children/{child}").status_code == 200  # the recipient may read it now
    not_holder = world.post("cw_c", f"/v1/children/{child}/shares", json={"recipient": "sy-aleppo-cp"})
    assert not_holder.status_code == 403 and not_holder.json()["reason_code"] == "deny.not-in-caseload"
    unknown = world.post("cw_a", f"/v1/children/{child}/shares", json={"recipient": "no-such-agency"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "recipient"
