"""Shared fixtures: a real SQLite file and a real PostgreSQL schema, migrated by Alembic, with fresh keys.

Store tests take the `registry` fixture and run twice, once per backend. PostgreSQL is the server on
127.0.0.1:5432 (database `test`, trust auth); each test gets its own schema, dropped afterwards. Where no
server answers, those runs skip with the reason -- unless REGISTRY_REQUIRE_POSTGRES=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

# pytest-xdist's workers start with COLUMNS=80, and the CLI's Rich consoles (created on import) would keep that
# width for good: the CLI tests set the width they read in at invocation, which only works without it.
os.environ.pop("COLUMNS", None)

from registry.config import Settings  # noqa: E402
from registry.keys import create_key_dir  # noqa: E402
from registry.services.context import Registry, open_registry  # noqa: E402
from registry.store.migrate import upgrade  # noqa: E402

PG_URL = os.environ.get("REGISTRY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, str | None] = {}


def postgres_unavailable() -> str | None:
    """None when the server answers, otherwise why not (checked once per run)."""
    if "reason" not in _pg_state:
        try:
            eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as c:
                c.execute(text("SELECT 1"))
            eng.dispose()
            _pg_state["reason"] = None
        except Exception as e:  # pragma: no cover - depends on the machine
            _pg_state["reason"] = f"PostgreSQL at {PG_URL.split('@')[-1]} not reachable ({type(e).__name__})"
    return _pg_state["reason"]


def require_postgres() -> None:
    reason = postgres_unavailable()
    if reason:
        if os.environ.get("REGISTRY_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}, and REGISTRY_REQUIRE_POSTGRES=1 forbids skipping")
        pytest.skip(reason)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema on the PostgreSQL server; the URL routes every connection to it."""
    require_postgres()
    schema = "t_" + secrets.token_hex(6)
    admin = create_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.db'}"


def make_registry(home: Path, url: str) -> Registry:
    settings = Settings(home=home, database_url=url, key_dir=home / "keys")
    keys = create_key_dir(settings.key_dir)
    upgrade(url)
    return open_registry(settings, keys)


@pytest.fixture
def registry(tmp_path: Path, database_url: str) -> Iterator[Registry]:
    reg = make_registry(tmp_path / "home", database_url)
    yield reg
    reg.close()


@pytest.fixture
def sqlite_registry(tmp_path: Path, sqlite_url: str) -> Iterator[Registry]:
    reg = make_registry(tmp_path / "home", sqlite_url)
    yield reg
    reg.close()


class LiveServer:
    """The FastAPI app served by uvicorn on a free loopback port, in a thread: real HTTP, real sockets."""

    def __init__(self, app):
        import socket
        import threading

        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        import time

        deadline = time.time() + 10
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_app(registry):
    """(base URL client, registry) for a live server over the parametrised backend."""
    import httpx

    from registry.api import create_app

    server = LiveServer(create_app(registry))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client, registry
    server.stop()


@pytest.fixture(scope="session")
def registry_factory():
    """make_registry, for fixtures of wider scope (a module sharing one trained registry)."""
    return make_registry


@pytest.fixture(scope="session")
def live_server_factory():
    """LiveServer, for fixtures of wider scope."""
    return LiveServer
