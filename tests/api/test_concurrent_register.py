"""Registering one (institution, source_ref) from many clients at once, over real HTTP, on SQLite and PostgreSQL:
every client gets the right answer (one "created", the others "unchanged", or 409 for another version), never a
500, and one record is stored."""

from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy import func, select

from registry.store.models import CaseRecord, Child

from .conftest import build_world

CLIENTS = 12
ROUNDS = 6


@pytest.fixture
def server(registry, live_server_factory, monkeypatch):
    from registry.api import create_app

    world = build_world(registry)
    server = live_server_factory(create_app(registry))
    yield server, world
    server.stop()


def _race(url: str, headers: dict[str, str], bodies: list[dict]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(bodies))
    answers: list[httpx.Response | Exception] = [None] * len(bodies)  # type: ignore[list-item]

    def client(i: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as c:
            barrier.wait()
            try:
                answers[i] = c.post("/v1/children", json=bodies[i])
            except httpx.HTTPError as e:  # a dropped connection counts as a failure
                answers[i] = e

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return answers  # type: ignore[return-value]


def _body(ref: str, given: str) -> dict:
    return {"institution": "sy-homs-ngo", "source_ref": ref, "given_name": given, "father_name": "خالد",
            "family_name": "الأتاسي", "sex": "M", "date_of_birth": "2014-07-01", "governorate": "SY-HI"}


def test_the_same_record_from_many_clients_at_once(server):
    srv, world = server
    for r in range(ROUNDS):
        answers = _race(srv.url, world.auth("cw"), [_body(f"RACE-{r}", "عمر")] * CLIENTS)
        assert all(isinstance(a, httpx.Response) for a in answers), [a for a in answers if isinstance(a, Exception)]
        codes = sorted(a.status_code for a in answers)
        assert codes == [200] * (CLIENTS - 1) + [201], [a.text[:200] for a in answers if a.status_code >= 300]
        outcomes = sorted(a.json()["outcome"] for a in answers)
        assert outcomes == ["created"] + ["unchanged"] * (CLIENTS - 1)
        assert len({a.json()["child_id"] for a in answers}) == 1
    with world.reg.db.unit_of_work() as s:
        refs = s.scalars(select(CaseRecord.source_ref).where(CaseRecord.source_ref.like("RACE-%"))).all()
        assert sorted(refs) == [f"RACE-{r}" for r in range(ROUNDS)]
        # No child was left behind by a losing registration.
        assert s.scalar(select(func.count()).select_from(Child)) == s.scalar(
            select(func.count()).select_from(CaseRecord))


def test_different_versions_of_one_record_at_once(server):
    srv, world = server
    for r in range(ROUNDS):
        bodies = [_body(f"VER-{r}", "عمر" if i % 2 else "علي") for i in range(CLIENTS)]
        answers = _race(srv.url, world.auth("cw"), bodies)
        # One wins; the same version again is "unchanged"; another version is a conflict (an identity changes
        # only by an explicit update): never a 500, never a second child.
        assert all(isinstance(a, httpx.Response) and a.status_code in (200, 201, 409) for a in answers), \
            [getattr(a, "text", repr(a))[:200] for a in answers]
        stored = [a for a in answers if a.status_code != 409]
        assert [a.json()["outcome"] for a in stored].count("created") == 1
        assert {a.json()["outcome"] for a in stored} <= {"created", "unchanged"}
        assert all(a.json()["errors"][0]["field"] == "source_ref" for a in answers if a.status_code == 409)
        assert len({a.json()["child_id"] for a in stored}) == 1
