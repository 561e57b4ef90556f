"""Agencies, users, Argon2id passwords, API tokens (hash only, expiring, revocable) and bearer authentication."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text

from registry.errors import Conflict, InvalidInput
from registry.services.accounts import (
    actor_for_token,
    create_agency,
    create_token,
    create_user,
    login,
    revoke_token,
    set_active,
)
from registry.services.actor import Unauthenticated
from registry.store.db import Base
from registry.store.tables.accounts import ApiToken, User

PASSWORD = "نجمة الصبح 2026 generated"


@pytest.fixture
def reg(registry):
    Base.metadata.create_all(registry.db.engine)  # accounts tables, until their migration exists
    create_agency(registry, "sy-hama-ngo", "جمعية أطفال حماة", "SY-HM")
    create_agency(registry, "eg-giza-mss", "Giza Social Solidarity Directorate", "EG-GZ")
    return registry


@pytest.fixture
def api(live_app):
    client, registry = live_app
    Base.metadata.create_all(registry.db.engine)
    create_agency(registry, "sy-hama-ngo", "جمعية أطفال حماة", "SY-HM")
    create_user(registry, "layla.haddad", "sy-hama-ngo", "caseworker", PASSWORD)
    return client, registry


def test_passwords_are_stored_as_argon2id_and_checked_at_login(reg):
    actor = create_user(reg, "layla.haddad", "sy-hama-ngo", "caseworker", PASSWORD)
    with reg.db.unit_of_work() as s:
        stored = s.get(User, actor.user_id).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert login(reg, "layla.haddad", PASSWORD) == actor
    with pytest.raises(Unauthenticated):
        login(reg, "layla.haddad", "wrong " + PASSWORD)
    with pytest.raises(Unauthenticated):
        login(reg, "nobody", PASSWORD)


def test_a_hash_made_with_old_parameters_is_replaced_at_the_next_login(reg):
    actor = create_user(reg, "omar.saeed", "eg-giza-mss", "caseworker", PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with reg.db.unit_of_work() as s:
        s.get(User, actor.user_id).password_hash = weak
    login(reg, "omar.saeed", PASSWORD)
    with reg.db.unit_of_work() as s:
        renewed = s.get(User, actor.user_id).password_hash
    assert renewed != weak and not PasswordHasher().check_needs_rehash(renewed)


@pytest.mark.parametrize(("args", "field"), [
    (("x", "sy-hama-ngo", "caseworker", PASSWORD), "username"),
    (("rania.k", "sy-hama-ngo", "superuser", PASSWORD), "role"),
    (("rania.k", "sy-hama-ngo", "caseworker", "short"), "password"),
    (("rania.k", "no-such-agency", "caseworker", PASSWORD), "agency"),
])
def test_bad_user_fields_are_named(reg, args, field):
    with pytest.raises(InvalidInput) as e:
        create_user(reg, *args)
    assert e.value.errors[0].field == field


def test_agencies_need_a_known_governorate_and_a_unique_code(reg):
    with pytest.raises(InvalidInput) as e:
        create_agency(reg, "sy-x", "جمعية", "SY-XX")
    assert e.value.errors[0].field == "governorate"
    with pytest.raises(Conflict):
        create_agency(reg, "sy-hama-ngo", "Hama again", "SY-HM")
    assert create_agency(reg, "eg-alex", "Alexandria", "EG-ALX").governorate == "EG-ALX"


def test_tokens_are_stored_only_as_their_hash(reg):
    create_user(reg, "layla.haddad", "sy-hama-ngo", "caseworker", PASSWORD)
    issued = create_token(reg, "layla.haddad", days=7)
    with reg.db.unit_of_work() as s:
        row = s.get(ApiToken, issued.token_id)
        dump = " ".join(str(v) for r in s.execute(text("SELECT * FROM api_tokens")) for v in r)
    assert issued.token not in dump
    assert row.token_hash == hashlib.sha256(b"registry-api-token-v1\x00" + issued.token.encode()).hexdigest()
    assert dt.timedelta(days=6) < issued.expires_at - dt.datetime.now(dt.UTC).replace(tzinfo=None) <= \
        dt.timedelta(days=7)
    assert actor_for_token(reg, issued.token).username == "layla.haddad"


def test_expired_revoked_or_disabled_tokens_stop_working(reg):
    create_user(reg, "layla.haddad", "sy-hama-ngo", "caseworker", PASSWORD)
    expired, revoked, disabled = (create_token(reg, "layla.haddad") for _ in range(3))
    with reg.db.unit_of_work() as s:
        s.get(ApiToken, expired.token_id).expires_at = dt.datetime(2020, 1, 1)
    revoke_token(reg, revoked.token_id)
    for t in (expired, revoked):
        with pytest.raises(Unauthenticated):
            actor_for_token(reg, t.token)
    assert actor_for_token(reg, disabled.token)
    set_active(reg, "layla.haddad", False)
    with pytest.raises(Unauthenticated):
        actor_for_token(reg, disabled.token)


@pytest.mark.parametrize("header", [None, "Bearer crt_not-a-real-token", "Basic bGF5bGE6cGFzcw==", "Bearer"])
def test_missing_or_wrong_credentials_are_401_problem_details_with_www_authenticate(api, header):
    client, _ = api
    headers = {"Authorization": header} if header else {}
    r = client.get("/v1/children/CR-2222-2222-222", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 401 and r.json()["title"] == "Not authenticated"


def test_every_v1_endpoint_requires_a_token_but_health_and_docs_do_not(api):
    client, _ = api
    spec = client.get("/openapi.json")
    assert spec.status_code == 200 and client.get("/health").status_code == 200
    assert client.get("/docs").status_code == 200
    checked = 0
    for path, methods in spec.json()["paths"].items():
        if not path.startswith("/v1"):
            continue
        url = path.replace("{child_id}", "CR-2222-2222-222").replace("{consent_id}", "C1").replace(
            "{grant_id}", "G1")
        for method in methods:
            r = client.request(method.upper(), url, json={})
            assert r.status_code == 401, (method, path, r.status_code)
            checked += 1
    assert checked >= 8


def test_a_revoked_token_is_refused_at_once_over_http(api):
    client, reg = api
    issued = create_token(reg, "layla.haddad")
    auth = {"Authorization": f"Bearer {issued.token}"}
    me = client.get("/v1/me", headers=auth)
    assert me.status_code == 200 and me.json()["role"] == "caseworker" and me.json()["agency"] == "sy-hama-ngo"
    revoke_token(reg, issued.token_id)
    assert client.get("/v1/me", headers=auth).status_code == 401


def test_user_ids_are_opaque_tokens_fit_for_the_audit_log(reg):
    actor = create_user(reg, "سلمى".encode().hex()[:10], "sy-hama-ngo", "dpo", PASSWORD)
    assert actor.user_id.startswith("U") and actor.user_id[1:].isalnum()
    with reg.db.unit_of_work() as s:
        assert s.scalar(select(User.role).where(User.user_id == actor.user_id)) == "dpo"
