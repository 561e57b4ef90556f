"""A small registry world for the access tests: four agencies, one user per role, generated children.

Users are inserted with one precomputed Argon2id hash (hashing per user would only slow the tests; the
accounts tests cover hashing). Matching is replaced by `world.matches` (the matcher is another package's):
the lookup tests hand-craft what it returns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event

from registry.accounts.secrets_ import hash_password
from registry.audit.event import AuditEvent
from registry.services.accounts import create_token
from registry.store.db import Base
from registry.store.tables.accounts import Agency, User
from registry.synth import generate

PASSWORD = "a generated test password"
_HASH = hash_password(PASSWORD)

AGENCIES = {
    "sy-homs-ngo": ("جمعية حماية الطفل - حمص", "SY-HI", "مسؤول حماية الطفل"),
    "sy-aleppo-cp": ("Aleppo Child Protection Centre", "SY-HL", "case management supervisor"),
    "eg-cairo-mss": ("مديرية التضامن الاجتماعي بالقاهرة", "EG-C", "child protection focal point"),
    "national-unit": ("National case-management unit", "SY-DI", "duty officer"),
}
USERS = {  # username: (agency, role)
    "cw_a": ("sy-homs-ngo", "caseworker"),
    "admin_a": ("sy-homs-ngo", "agency_admin"),
    "cw_b": ("sy-aleppo-cp", "caseworker"),
    "cw_c": ("eg-cairo-mss", "caseworker"),
    "reviewer": ("national-unit", "national_reviewer"),
    "dpo": ("national-unit", "dpo"),
    "sysadmin": ("national-unit", "system_admin"),
}


@dataclass
class Match:
    """The matcher's answer, as registry.matching.lookup.find_matches returns it."""

    child_id: str
    probability: float
    institutions: list[str] = field(default_factory=list)


def generated_rows(n: int = 40, seed: int = 7) -> dict[str, list[dict]]:
    """Generated identities with a full chain and a date of birth, split by script."""
    out: dict[str, list[dict]] = {"arabic": [], "latin": []}
    for rec in generate(n, seed=seed).records:
        row = {k: v for k, v in rec.row.items() if v is not None}
        if rec.bad_row or not all(row.get(f) for f in ("given_name", "family_name", "father_name")):
            continue
        row["date_of_birth"] = rec.true_date_of_birth
        row.pop("national_id", None)
        row.pop("governorate", None)  # generated spellings of governorates are the import tests' business
        script = "latin" if row["given_name"][0].isascii() else "arabic"
        out[script].append(row)
    return out


class World:
    def __init__(self, client, reg):
        self.client = client
        self.reg = reg
        self.tokens: dict[str, str] = {}
        self.matches: list[Match] = []
        rows = generated_rows()
        self.arabic, self.latin = rows["arabic"], rows["latin"]

    def auth(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            self.tokens[user] = create_token(self.reg, user).token
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, user: str, path: str, **kw):
        return self.client.get(path, headers=self.auth(user), **kw)

    def post(self, user: str, path: str, **kw):
        return self.client.post(path, headers=self.auth(user), **kw)

    def register(self, user: str, row: dict, ref: str) -> str:
        body = {k: v for k, v in row.items() if k != "institution"} | {"source_ref": ref}
        r = self.post(user, "/v1/children", json=body)
        assert r.status_code == 201, r.text
        return r.json()["child_id"]

    def consent(self, user: str, child_id: str, **fields) -> dict:
        body = {"purpose": "share", "grantor": "caregiver", "given_on": "2025-01-10",
                "evidence_ref": "form/2025/0042"} | fields
        r = self.post(user, f"/v1/children/{child_id}/consents", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def events(self) -> list[AuditEvent]:
        return [self.reg.audit.entry(i).event for i in range(self.reg.audit.size())]

    def last_event(self, action: str, user: str | None = None) -> AuditEvent:
        user_id = None if user is None else self.user_id(user)
        for e in reversed(self.events()):
            if e.action == action and (user_id is None or e.user_id == user_id):
                return e
        raise AssertionError(f"no {action} event")

    def statements(self, call):
        """What `call()` returns, and how many statements it sent to the database."""
        sent = []

        def count(*_args) -> None:
            sent.append(1)

        event.listen(self.reg.db.engine, "before_cursor_execute", count)
        try:
            return call(), len(sent)
        finally:
            event.remove(self.reg.db.engine, "before_cursor_execute", count)

    def user_id(self, username: str) -> str:
        with self.reg.db.unit_of_work() as s:
            return s.query(User).filter_by(username=username).one().user_id


@pytest.fixture
def world(live_app, monkeypatch) -> World:
    client, reg = live_app
    Base.metadata.create_all(reg.db.engine)  # accounts/consent tables, until their migration exists
    with reg.db.unit_of_work() as s:
        for code, (name, gov, focal) in AGENCIES.items():
            s.add(Agency(code=code, name=name, governorate=gov, focal_point_role=focal))
        s.flush()
        for i, (username, (agency, role)) in enumerate(USERS.items()):
            s.add(User(user_id=f"U{i:04d}{username.replace('_', '')}"[:32], username=username, agency=agency,
                       role=role, password_hash=_HASH))
    w = World(client, reg)
    monkeypatch.setattr("registry.services.lookups.find_matches", lambda _reg, _identity, _excluded=(): list(w.matches))
    monkeypatch.setattr("registry.services.lookups.MIN_SECONDS", 0.02)
    return w


@pytest.fixture
def today() -> dt.date:
    return dt.date.today()
