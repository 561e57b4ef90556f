"""Fixtures for the audit log tests: a real SQLite file and, when reachable, PostgreSQL in a fresh schema."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from registry.audit.event import AuditEvent
from registry.audit.log import AuditLog
from registry.keys import KeyRing, create_key_dir
from registry.store.db import Base, Database
from registry.store.tables.audit import AUDIT_TABLES

PG_URL = os.environ.get("REGISTRY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=2):
            return None
    except Exception as e:  # noqa: BLE001 - any failure means "not reachable"
        return str(e)


_PG_ERROR = _postgres_reachable()


def _make_database(kind: str, tmp_path: Path) -> Iterator[Database]:
    if kind == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'audit.db'}")
        Base.metadata.create_all(db.engine, tables=AUDIT_TABLES)
        yield db
        db.dispose()
        return
    if _PG_ERROR is not None:
        if os.environ.get("REGISTRY_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable: {_PG_ERROR}")
        pytest.skip(f"PostgreSQL unreachable: {_PG_ERROR}")
    import psycopg

    schema = f"audit_test_{uuid.uuid4().hex[:12]}"
    plain = PG_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    db = Database(f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        Base.metadata.create_all(db.engine, tables=AUDIT_TABLES)
        yield db
    finally:
        db.dispose()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    yield from _make_database(request.param, tmp_path)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    yield from _make_database("sqlite", tmp_path)


@pytest.fixture
def keys(tmp_path: Path) -> KeyRing:
    return create_key_dir(tmp_path / "keys")


@pytest.fixture
def other_keys(tmp_path: Path) -> KeyRing:
    return create_key_dir(tmp_path / "other-keys")


@pytest.fixture
def log(db: Database, keys: KeyRing) -> AuditLog:
    # Without the `audit-checkpoint` entries, so that entry positions in these tests are the events recorded;
    # tests/audit/test_cuts.py covers the log as the registry runs it (with them).
    return AuditLog(db, keys, checkpoint_every=None, attest_checkpoints=False)


BASE_TIME = dt.datetime(2026, 3, 2, 9, 0, 0)  # a Monday, 09:00 UTC = 12:00 in Damascus


@pytest.fixture
def make_event() -> Callable[..., AuditEvent]:
    """An ordinary, permitted lookup by a caseworker; override any field."""

    def make(**overrides: object) -> AuditEvent:
        values: dict[str, object] = dict(
            action="lookup",
            outcome="no-match",
            user_id="u-caseworker-1",
            role="caseworker",
            agency="agency-a",
            purpose="deduplication",
            legal_basis="consent:c-100",
            decision="permit",
            reason_code="consent-valid",
            children=(),
            query_fingerprint="fp-0001",
            at=BASE_TIME,
        )
        values.update(overrides)
        return AuditEvent(**values)  # type: ignore[arg-type]

    return make
