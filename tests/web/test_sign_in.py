"""Signing in over real HTTP, on SQLite and PostgreSQL: cookies, CSRF, lock-out, sign-out, and the audit trail."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from registry.audit.event import parse_entry
from registry.services import accounts
from registry.services.sessions import MAX_FAILURES
from registry.store.tables.audit import AuditEventRow

PASSWORD = "correct-horse-battery-7"


@pytest.fixture
def site(web_app):
    client, reg = web_app
    accounts.create_agency(reg, "sy-homs-ngo", "Homs NGO", "SY-HI")
    accounts.create_agency(reg, "national-unit", "National unit", "SY-DI")
    users = {"caseworker": accounts.create_user(reg, "cw.homs", "sy-homs-ngo", "caseworker", PASSWORD),
             "national_reviewer": accounts.create_user(reg, "rev.one", "national-unit", "national_reviewer",
                                                       PASSWORD)}
    return client, reg, users


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username: str, password: str = PASSWORD, **headers):
    token = csrf_of(client.get("/sign-in").text)
    return client.post("/sign-in", data={"csrf_token": token, "username": username, "password": password,
                                         "next": "/"}, headers=headers)


def audit(reg, action: str) -> list[AuditEventRow]:
    with reg.db.unit_of_work() as s:
        return list(s.scalars(select(AuditEventRow).where(AuditEventRow.action == action)
                              .order_by(AuditEventRow.leaf_index)))


def test_sign_in_gives_an_http_only_strict_session_cookie_and_is_audited(site):
    client, reg, users = site
    r = sign_in(client, "cw.homs")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("registry_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert client.get("/").status_code == 200
    [event] = audit(reg, "sign-in")
    assert (event.user_id, event.outcome, event.decision) == (users["caseworker"].user_id, "success", "permit")


def test_the_session_cookie_is_secure_behind_tls(site):
    client, _, _ = site
    r = sign_in(client, "cw.homs", **{"X-Forwarded-Proto": "https"})  # a TLS proxy on the same host
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("registry_session="))
    assert "Secure" in cookie


def test_repeated_failures_lock_the_username_out_and_every_attempt_is_audited(site):
    client, reg, users = site
    for _ in range(MAX_FAILURES):
        r = sign_in(client, "cw.homs", "wrong-password-000")
        assert r.status_code == 401
        assert "The username or the password is not right" in r.text or "غير صحيحة" in r.text
    r = sign_in(client, "cw.homs")  # the right password, too late
    assert r.status_code == 429
    assert "registry_session=" not in r.headers.get("set-cookie", "")
    outcomes = [(e.user_id, e.outcome, parse_entry(bytes(e.entry)).event.reason_code) for e in audit(reg, "sign-in")]
    uid = users["caseworker"].user_id
    assert outcomes == [(uid, "failure", "deny.wrong-password")] * MAX_FAILURES + [(uid, "denied", "deny.locked-out")]


def test_an_unknown_username_is_audited_by_fingerprint_never_as_typed(site):
    client, reg, _ = site
    typed = "Secret-Passw0rd-typed-here"
    assert sign_in(client, typed, "x").status_code == 401
    [event] = audit(reg, "sign-in")
    assert event.user_id == "unknown-user" and event.query_fingerprint
    with reg.db.unit_of_work() as s:
        entries = b"".join(bytes(e) for e in s.scalars(select(AuditEventRow.entry)))
    assert typed.encode() not in entries and typed.lower().encode() not in entries


def test_forms_without_their_csrf_token_are_refused(site):
    client, _, _ = site
    r = client.post("/sign-in", data={"username": "cw.homs", "password": PASSWORD})
    assert r.status_code == 403 and "registry_session=" not in r.headers.get("set-cookie", "")
    sign_in(client, "cw.homs")
    page = client.get("/children/new")
    form = {"source_ref": "HMS-9", "given_name": "Omar", "family_name": "Haddad"}
    assert client.post("/children/new", data=form).status_code == 403
    assert client.post("/children/new", data={**form, "csrf_token": "not-the-token"}).status_code == 403
    ok = client.post("/children/new", data={**form, "csrf_token": csrf_of(page.text)})
    assert ok.status_code == 200 and 'id="registered"' in ok.text


def test_sign_out_ends_the_session_and_is_audited(site):
    client, reg, users = site
    sign_in(client, "cw.homs")
    stolen = client.cookies.get("registry_session")
    r = client.post("/sign-out", data={"csrf_token": csrf_of(client.get("/").text)})
    assert r.status_code == 303
    client.cookies.set("registry_session", stolen)  # the old cookie is worth nothing now
    assert client.get("/").status_code == 303
    [event] = audit(reg, "sign-out")
    assert event.user_id == users["caseworker"].user_id


def test_sign_in_never_redirects_to_another_origin(site):
    client, _, _ = site
    token = csrf_of(client.get("/sign-in").text)
    r = client.post("/sign-in", data={"csrf_token": token, "username": "cw.homs", "password": PASSWORD,
                                      "next": "//evil.example/x"})
    assert r.headers["location"] == "/"


def test_pages_ask_the_same_policy_as_the_api_and_errors_are_pages_without_internals(site):
    client, reg, users = site
    sign_in(client, "rev.one")
    before = len(audit(reg, "read"))
    assert client.get("/review").status_code == 200
    [event] = audit(reg, "read")[before:]  # as GET /v1/review/queue logs it
    assert (event.user_id, event.purpose, event.decision) == (users["national_reviewer"].user_id,
                                                            "deduplication-review", "permit")
    r = client.get("/review/pairs/987654")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    r = client.get("/review?page=abc")
    assert r.status_code == 422 and "page" in r.text and "Traceback" not in r.text


def test_pages_forbid_other_origins_and_docs_serve_local_assets(site):
    client, _, _ = site
    r = client.get("/sign-in")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    docs = client.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs)
    assert assets and all(a.startswith("/") for a in assets), assets
    assert client.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/htmx.min.js").status_code == 200


def test_an_unknown_page_is_a_page_and_the_api_keeps_its_problem_details(site):
    client, _, _ = site
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    api = client.get("/v1/no-such-route")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")


def test_the_sign_in_pages_language_becomes_the_users_until_they_choose(site):
    client, _, _ = site
    client.get("/sign-in?lang=en")
    sign_in(client, "cw.homs")
    home = client.get("/")
    assert '<html lang="en" dir="ltr">' in home.text


def test_a_caseworker_registers_a_child_and_reads_it_and_others_are_refused(site):
    client, _, _ = site
    sign_in(client, "cw.homs")
    form = {"source_ref": "HMS-42", "given_name": "زينب", "family_name": "Haddad", "date_of_birth": "2016",
            "csrf_token": csrf_of(client.get("/children/new").text)}
    done = client.post("/children/new", data=form)
    child = re.search(r'href="/children/(CR-[A-Z0-9-]+)"', done.text).group(1)
    page = client.get(f"/children/{child}")
    assert page.status_code == 200 and "HMS-42" in page.text and "زينب" in page.text
    other = httpx_client_like(client)
    sign_in(other, "rev.one")
    refused = other.get(f"/children/{child}")  # the national unit reads identities only to review a pair
    assert refused.status_code == 403 and "زينب" not in refused.text
    other.close()


def httpx_client_like(client):
    import httpx

    return httpx.Client(base_url=client.base_url, timeout=30)


def test_registering_a_known_reference_with_another_identity_names_the_field(site):
    client, _, _ = site
    sign_in(client, "cw.homs")
    token = csrf_of(client.get("/children/new").text)
    first = {"source_ref": "HMS-77", "given_name": "Omar", "family_name": "Haddad", "csrf_token": token}
    assert client.post("/children/new", data=first).status_code == 200
    clash = client.post("/children/new", data={**first, "given_name": "Ali"})
    assert clash.status_code == 409 and 'href="#source_ref"' in clash.text


def test_a_decided_pair_says_how_it_was_decided_in_the_readers_language(site):
    """A pair another pair of the same two children stands for ("covered") says so, in Arabic by default,
    right to left, not as the stored status word."""
    from registry.identity import validate_identity
    from registry.services.registration import register_child
    from registry.store.models import CaseRecord
    from registry.store.tables.matching import SuspectedDuplicate

    client, reg, _ = site
    rows = ({"institution": "sy-homs-ngo", "source_ref": "H-1", "given_name": "محمد", "father_name": "أحمد",
             "family_name": "الحلبي", "sex": "M", "date_of_birth": "2015-03-04", "governorate": "SY-HI"},
            {"institution": "sy-homs-ngo", "source_ref": "H-2", "given_name": "Mohammed", "father_name": "Ahmad",
             "family_name": "Al-Halabi", "sex": "M", "date_of_birth": "2015", "governorate": "SY-HI"})
    a, b = sorted(register_child(reg, validate_identity(row)).record_id for row in rows)
    with reg.db.unit_of_work() as s:
        da, db_ = (s.get(CaseRecord, r).content_digest for r in (a, b))
        pair = SuspectedDuplicate(record_a=a, record_b=b, probability=0.8, match_weight=2.0, source="batch",
                                  status="covered", digest_a=da, digest_b=db_)
        s.add(pair)
        s.flush()
        pair_id = pair.pair_id
    sign_in(client, "rev.one")
    page = client.get(f"/review/pairs/{pair_id}")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert "مشمول: زوج آخر للطفلين نفسيهما يطرح السؤال" in page.text and "<strong>covered</strong>" not in page.text
