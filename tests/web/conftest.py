"""The web pages' fixtures: one generated, deduplicated registry with a user per role, served over real HTTP,
and one real Chromium (Debian's package, driven by Playwright) for the whole session.

Browser tests are marked `browser`. Where /usr/bin/chromium is missing they skip with the reason, except in CI
(CI or REGISTRY_REQUIRE_POSTGRES=1 set), where they fail: `.ci/run` installs the package.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from registry.identity import validate_identity
from registry.services import accounts
from registry.services.actor import Actor
from registry.services.context import Registry
from registry.services.dedupe import run_dedupe
from registry.services.registration import register_child, register_records
from registry.synth import generate

CHROMIUM = os.environ.get("REGISTRY_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct-horse-battery-7"
NATIONAL_UNIT = "national-unit"
HOMS, ALEPPO = "sy-homs-ngo", "sy-aleppo-cp"
# One child registered by a Homs agency in Arabic script; the Aleppo caseworker asks in Latin letters.
MOHAMMED_AR = {"institution": HOMS, "source_ref": "HMS-1", "given_name": "محمد", "father_name": "أحمد",
               "grandfather_name": "علي", "family_name": "الحلبي", "mother_given_name": "فاطمة", "sex": "M",
               "date_of_birth": "2015-03-04", "governorate": "SY-HI"}
MOHAMMED_LATIN = {"given_name": "Mohammed", "father_name": "Ahmad", "family_name": "Al-Halabi", "sex": "M",
                  "date_of_birth": "2015-03-04"}


@dataclass
class WebKit:
    """The served registry, its users (username per role) and where screenshots go."""

    reg: Registry
    url: str
    users: dict[str, Actor]
    screenshots: Path
    arabic_child: str = ""
    other_origin_requests: list[str] = field(default_factory=list)

    def username(self, role: str) -> str:
        return self.users[role].username


def _accounts(reg: Registry) -> dict[str, Actor]:
    for code, name, gov in ((NATIONAL_UNIT, "الوحدة الوطنية لإدارة الحالات", "SY-DI"),
                            (HOMS, "جمعية حمص لرعاية الطفل", "SY-HI"), (ALEPPO, "Aleppo Child Protection", "SY-HL")):
        accounts.create_agency(reg, code, name, gov)
    return {role: accounts.create_user(reg, name, agency, role, PASSWORD) for role, name, agency in (
        ("national_reviewer", "reviewer.one", NATIONAL_UNIT), ("dpo", "dpo.one", NATIONAL_UNIT),
        ("caseworker", "caseworker.aleppo", ALEPPO), ("agency_admin", "admin.aleppo", ALEPPO),
        ("system_admin", "sysadmin", NATIONAL_UNIT))}


@pytest.fixture(scope="session")
def web(tmp_path_factory, registry_factory, live_server_factory) -> Iterator[WebKit]:
    """A registry of generated children (trained model, open review pairs), served by uvicorn."""
    from registry.site import create_site as create_app

    home = tmp_path_factory.mktemp("web")
    reg = registry_factory(home / "home", f"sqlite:///{home / 'registry.db'}")
    valid = [validate_identity(r.row) for r in generate(1200, seed=5).records if not r.bad_row]
    with reg.db.unit_of_work() as s:
        register_records(reg, s, [(i, None) for i in valid])
    run_dedupe(reg)
    users = _accounts(reg)
    child = register_child(reg, validate_identity(MOHAMMED_AR)).child_id
    server = live_server_factory(create_app(reg))
    shots = Path(os.environ.get("REGISTRY_SCREENSHOTS") or home / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    yield WebKit(reg, server.url, users, shots, child)
    server.stop()
    reg.close()


@pytest.fixture
def web_app(registry, live_server_factory):
    """(client, registry): the API and the pages served over real HTTP, on the parametrised backend."""
    from registry.site import create_site

    server = live_server_factory(create_site(registry))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client, registry
    server.stop()


def _chromium_missing() -> str | None:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return f"Chromium not found at {CHROMIUM}: apt-get install chromium (.ci/run does)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install -e '.[test]'"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _chromium_missing()
    if reason:
        if os.environ.get("CI") or os.environ.get("REGISTRY_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}; browser tests must run in CI")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser, web: WebKit):
    """A fresh browser context (no cookies) whose every request is checked: nothing may leave the app."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, base_url=web.url)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    outside: list[str] = []

    def watch(request) -> None:
        if not (request.url.startswith(web.url) or request.url.startswith("data:")):
            outside.append(request.url)

    pg.on("request", watch)
    yield pg
    context.close()
    web.other_origin_requests.extend(outside)
    assert outside == [], f"requests to another origin: {outside}"


def sign_in(page, role: str, web: WebKit, language: str = "ar") -> None:
    page.goto(f"/sign-in?lang={language}")
    page.fill("#username", web.username(role))
    page.fill("#password", PASSWORD)
    page.locator("form[action='/sign-in'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    use_language(page, language)


def use_language(page, language: str) -> None:
    """The user's language is kept with the account: switch it when the last test left the other one."""
    if page.locator("html").get_attribute("lang") != language:
        page.get_by_role("button", name="English" if language == "en" else "العربية").click()
        # The switch reloads the page: an assertion that retries across the navigation, not a script run in a
        # document that may be between two pages (its documentElement null for a moment).
        from playwright.sync_api import expect

        expect(page.locator("html")).to_have_attribute("lang", language)


def http_sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in over plain HTTP, as a browser would: read the form's CSRF token, post it back."""
    form = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return client.post("/sign-in", data={"csrf_token": token, "username": username, "password": password,
                                         "next": "/"})


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


class Helpers:
    sign_in = staticmethod(sign_in)
    http_sign_in = staticmethod(http_sign_in)
    csrf_of = staticmethod(csrf_of)
    password = PASSWORD
    latin = MOHAMMED_LATIN


@pytest.fixture
def helpers() -> type[Helpers]:
    return Helpers
