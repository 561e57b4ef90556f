"""Administrators' pages over real HTTP: the policy decides whose users an admin may manage, and says no
(logged) otherwise."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from registry.services import accounts
from registry.store.tables.accounts import User
from registry.store.tables.audit import AuditEventRow

PASSWORD = "correct-horse-battery-7"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def admin_site(web_app):
    client, reg = web_app
    for code, gov in (("sy-homs-ngo", "SY-HI"), ("sy-aleppo-cp", "SY-HL"), ("national-unit", "SY-DI")):
        accounts.create_agency(reg, code, code, gov)
    accounts.create_user(reg, "admin.homs", "sy-homs-ngo", "agency_admin", PASSWORD)
    accounts.create_user(reg, "cw.aleppo", "sy-aleppo-cp", "caseworker", PASSWORD)
    accounts.create_user(reg, "sysadmin", "national-unit", "system_admin", PASSWORD)
    return client, reg


def sign_in(client, username: str) -> str:
    token = csrf_of(client.get("/sign-in").text)
    client.post("/sign-in", data={"csrf_token": token, "username": username, "password": PASSWORD, "next": "/"})
    return csrf_of(client.get("/").text)


def test_an_agency_admin_adds_a_user_to_its_own_agency_and_gets_a_token_shown_once(admin_site):
    client, reg = admin_site
    token = sign_in(client, "admin.homs")
    bad = client.post("/admin/users", data={"csrf_token": token, "username": "X", "role": "caseworker",
                                            "password": "short"})
    assert bad.status_code == 422 and 'href="#username"' in bad.text and 'href="#password"' in bad.text
    other = client.post("/admin/users", data={"csrf_token": token, "username": "cw.homs", "role": "caseworker",
                                              "agency": "sy-aleppo-cp", "password": PASSWORD})
    assert other.status_code == 403  # another agency's users are not theirs to add
    ok = client.post("/admin/users", data={"csrf_token": token, "username": "cw.homs", "role": "caseworker",
                                           "password": PASSWORD})
    assert ok.status_code == 200
    with reg.db.unit_of_work() as s:
        assert s.scalar(select(User.agency).where(User.username == "cw.homs")) == "sy-homs-ngo"
    issued = client.post("/admin/users/cw.homs/tokens", data={"csrf_token": token})
    assert re.search(r"crt_[A-Za-z0-9_-]{20,}", issued.text)
    assert not re.search(r"crt_[A-Za-z0-9_-]{20,}", client.get("/admin/users").text)  # shown once


def test_an_agency_admin_may_not_touch_another_agencys_users_nor_add_agencies(admin_site):
    client, reg = admin_site
    token = sign_in(client, "admin.homs")
    r = client.post("/admin/users/cw.aleppo/active", data={"csrf_token": token, "active": "0"})
    assert r.status_code == 404  # as for a user who is not there: other agencies' usernames cannot be probed
    with reg.db.unit_of_work() as s:
        assert s.scalar(select(User.active).where(User.username == "cw.aleppo")) is True
    r = client.post("/admin/agencies", data={"csrf_token": token, "code": "eg-x", "name": "X", "governorate": "EG-C"})
    assert r.status_code == 403 and "deny.role" in r.text
    with reg.db.unit_of_work() as s:
        denied = s.scalars(select(AuditEventRow).where(AuditEventRow.action == "admin",
                                                       AuditEventRow.decision == "deny")).all()
    assert len(denied) == 1


def test_a_system_admin_adds_an_agency_and_each_bad_field_is_named(admin_site):
    client, _ = admin_site
    token = sign_in(client, "sysadmin")
    bad = client.post("/admin/agencies", data={"csrf_token": token, "code": "!", "name": "", "governorate": ""})
    assert bad.status_code == 422
    for field in ("code", "name", "governorate"):
        assert f'href="#{field}"' in bad.text
    ok = client.post("/admin/agencies", data={"csrf_token": token, "code": "eg-cairo-mss", "name": "وزارة التضامن",
                                              "governorate": "EG-C"})
    assert ok.status_code == 200 and "eg-cairo-mss" in ok.text
