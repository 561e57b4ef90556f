"""End-to-end in real Chromium: each role's main path, in Arabic (the default) and English.

Every test's page fixture fails the test if the browser sent any request to another origin.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from registry.services.breakglass import break_glass
from registry.services.lookups import lookup_child
from registry.store.tables.audit import AuditEventRow
from registry.store.tables.web import WebSession

pytestmark = pytest.mark.browser


def events(web, **where) -> list:
    with web.reg.db.unit_of_work() as s:
        q = select(AuditEventRow)
        for k, v in where.items():
            q = q.where(getattr(AuditEventRow, k) == v)
        return list(s.scalars(q))


def shot(page, web, name: str) -> None:
    page.screenshot(path=str(web.screenshots / f"{name}.png"), full_page=True)


def test_sign_in_page_is_arabic_by_default_and_english_on_request(page, web):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.get_by_role("heading", name="تسجيل الدخول").is_visible()
    shot(page, web, "sign-in-ar")
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.get_by_role("heading", name="Sign in").is_visible()
    shot(page, web, "sign-in-en")


@pytest.mark.parametrize("language", ["ar", "en"])
def test_reviewer_merges_a_pair_then_undoes_the_merge_with_the_keyboard(page, web, helpers, language):
    helpers.sign_in(page, "national_reviewer", web, language)
    page.goto("/review")
    assert page.locator("html").get_attribute("lang") == language
    shot(page, web, f"review-queue-{language}")
    page.locator("a[href^='/review/pairs/']").first.click()
    assert page.locator("svg.waterfall rect").count() >= 3  # prior, comparisons, final
    shot(page, web, f"review-pair-{language}")
    pair_id = int(page.url.rsplit("/", 1)[1])
    merges_before = len(events(web, action="merge", user_id=web.users["national_reviewer"].user_id))
    page.keyboard.press("m")  # merge
    undo = page.locator("button[data-shortcut='u']")
    undo.wait_for()
    assert len(events(web, action="merge", user_id=web.users["national_reviewer"].user_id)) == merges_before + 1
    page.keyboard.press("u")  # undo
    page.locator(f"a[href='/review/pairs/{pair_id}']").wait_for()
    assert events(web, action="merge-undo", user_id=web.users["national_reviewer"].user_id)
    page.goto(f"/review/pairs/{pair_id}")
    assert page.locator("button[data-shortcut='m']").is_visible()  # open again after the undo


@pytest.mark.parametrize("language", ["en", "ar"])
def test_caseworkers_lookup_in_latin_letters_finds_a_child_registered_in_arabic_script(page, web, helpers, language):
    helpers.sign_in(page, "caseworker", web, language)
    page.goto("/lookup")
    page.select_option("#purpose", "registration")
    for name, value in helpers.latin.items():
        if name == "sex":
            page.select_option(f"#{name}", value)
        else:
            page.fill(f"#{name}", value)
    page.locator("form[action='/lookup'] button[type=submit]").click()
    answer = page.locator("#answer")
    answer.wait_for()
    assert answer.get_attribute("data-outcome") in ("likely-match", "possible-match")
    words = {"en": r"(Likely|Possible) match", "ar": "تطابق (مرجّح|محتمل)"}[language]
    assert re.search(words, answer.inner_text())
    # The disclosure contract: no score, no pseudonym, no record content of the other agency's child.
    assert web.arabic_child not in page.content()
    assert "محمد" not in page.content() and "%" not in answer.inner_text() and "٪" not in answer.inner_text()
    shot(page, web, f"lookup-{language}")


def test_lookup_form_names_each_missing_field(page, web, helpers):
    helpers.sign_in(page, "caseworker", web, "ar")
    page.goto("/lookup")
    page.select_option("#purpose", "registration")
    page.fill("#given_name", "Mohammed")
    page.get_by_role("button", name="تحقّق").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert summary.is_visible()


@pytest.mark.parametrize("language", ["ar", "en"])
def test_dpo_finds_a_caseworkers_lookups_by_name_and_opens_a_flag(page, web, helpers, language):
    cw = web.users["caseworker"]
    lookup_child(web.reg, cw, "registration", helpers.latin)
    break_glass(web.reg, cw, web.arabic_child, "missing-child", "Child reported missing at the Aleppo shelter")
    helpers.sign_in(page, "dpo", web, language)
    page.goto("/audit/events")
    page.fill("#user", cw.username)
    page.fill("#action", "lookup")
    page.locator("form[action='/audit/events'] button[type=submit]").click()
    rows = page.locator("table tbody tr")
    rows.first.wait_for()
    assert rows.count() >= 1
    assert all(cw.username in rows.nth(i).inner_text() for i in range(rows.count()))  # by name, not by id
    assert cw.user_id not in page.content()
    shot(page, web, f"audit-events-{language}")
    page.goto("/audit/flags")
    shot(page, web, f"audit-flags-{language}")
    page.locator("a[href^='/audit/flags/']").first.click()
    assert page.locator("table tbody tr").count() >= 1
    page.goto("/audit/log")
    page.locator("form[action='/audit/verify'] button[type=submit]").click()
    assert page.locator("#verify-result.good").is_visible()
    shot(page, web, f"audit-log-{language}")


def test_a_form_without_its_csrf_token_is_refused(page, web, helpers):
    helpers.sign_in(page, "caseworker", web, "en")
    page.goto("/children/new")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.fill("#source_ref", "ALP-CSRF-1")
    page.fill("#given_name", "Omar")
    with page.expect_response(lambda r: r.url.endswith("/children/new") and r.request.method == "POST") as resp:
        page.locator("form[action='/children/new'] button[type=submit]").click()
    assert resp.value.status == 403
    assert "csrf_token" in page.content()


def test_an_expired_session_is_refused_and_asks_to_sign_in_again(page, web, helpers):
    helpers.sign_in(page, "caseworker", web, "en")
    page.goto("/lookup")
    cookie = next(c for c in page.context.cookies() if c["name"] == "registry_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    import datetime as dt

    with web.reg.db.unit_of_work() as s:  # an hour without a request: past the idle timeout
        s.execute(update(WebSession).where(WebSession.user_id == web.users["caseworker"].user_id,
                                           WebSession.ended_at.is_(None))
                  .values(last_seen_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1)))
    page.goto("/lookup")
    assert "/sign-in" in page.url and "expired=1" in page.url
    assert page.locator(".notice.bad").is_visible()


@pytest.mark.parametrize("path,action", [("/review", "read"), ("/audit/events", "audit-read")])
def test_a_caseworker_opening_review_or_audit_pages_gets_403_and_the_denial_is_audited(page, web, helpers, path,
                                                                                        action):
    cw = web.users["caseworker"]
    before = len(events(web, user_id=cw.user_id, action=action, decision="deny"))
    helpers.sign_in(page, "caseworker", web, "ar")
    response = page.goto(path)
    assert response.status == 403
    assert page.get_by_role("heading", name="غير مسموح").is_visible()
    assert len(events(web, user_id=cw.user_id, action=action, decision="deny")) == before + 1
    shot(page, web, f"forbidden-{action}-ar")


@pytest.mark.parametrize("role,paths", [
    ("national_reviewer", ["/", "/review", "/lookup"]),
    ("dpo", ["/audit", "/audit/events", "/audit/flags", "/audit/log"]),
    ("caseworker", ["/lookup", "/children/new"]),
    ("agency_admin", ["/admin/users"]),
    ("system_admin", ["/admin/agencies", "/admin/users"]),
])
def test_every_main_page_fits_a_phone_and_loads_nothing_from_another_origin(browser, web, helpers, role, paths):
    for language in ("ar", "en"):
        context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=web.url)
        pg = context.new_page()
        outside: list[str] = []
        pg.on("request", lambda r, seen=outside: seen.append(r.url) if not r.url.startswith(web.url) else None)
        helpers.sign_in(pg, role, web, language)
        for path in paths:
            response = pg.goto(path)
            assert response.status == 200, path
            assert pg.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
            overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} is {overflow}px wider than a 360px phone"
            name = path.strip("/").replace("/", "-") or "home"
            pg.screenshot(path=str(web.screenshots / f"phone-{role}-{name}-{language}.png"))
        context.close()
        assert outside == [], outside


def test_swagger_ui_works_offline(page, web):
    page.goto("/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Child case registry" in page.locator(".swagger-ui .info .title").inner_text()


def test_a_review_pair_shows_both_records_whole_on_a_phone(browser, web, helpers):
    """The side-by-side table fits 360px without scrolling sideways: a long child id wraps, so record B's
    column is not cut off (in English it was, before ids could break)."""
    for language in ("ar", "en"):
        context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=web.url)
        pg = context.new_page()
        helpers.sign_in(pg, "national_reviewer", web, language)
        pg.goto("/review")
        pg.locator("a[href^='/review/pairs/']").first.click()
        pg.locator("table").first.wait_for()
        hidden = pg.evaluate("Math.max(...[...document.querySelectorAll('.scroll')]"
                             ".map(e => e.scrollWidth - e.clientWidth))")
        shot(pg, web, f"phone-review-pair-{language}")
        assert hidden <= 1, f"{hidden}px of the records table is off a 360px screen ({language})"
        context.close()
