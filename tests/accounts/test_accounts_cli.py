"""The accounts command line: agencies add, users add (password from standard input), tokens create/revoke."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.config import load_settings
from registry.services.accounts import actor_for_token
from registry.services.actor import Unauthenticated
from registry.services.context import init_registry
from registry.store.db import Base

PASSWORD = "كلمة سر مولدة generated 42"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REGISTRY_DATABASE_URL", raising=False)
    monkeypatch.delenv("REGISTRY_KEY_DIR", raising=False)
    reg, _ = init_registry(load_settings())
    Base.metadata.create_all(reg.db.engine)  # accounts tables, until their migration exists
    yield reg
    reg.close()


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin)


def test_an_administrator_creates_an_agency_a_user_and_a_token_then_revokes_it(home):
    r = run("agencies", "add", "sy-idlib-ngo", "--name", "جمعية إدلب للطفولة", "--governorate", "SY-ID")
    assert r.exit_code == 0, r.output
    r = run("users", "add", "huda.nasser", "--agency", "sy-idlib-ngo", "--role", "caseworker", "--password-stdin",
            stdin=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    r = run("tokens", "create", "huda.nasser", "--days", "3")
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("crt_")
    actor = actor_for_token(home, token)
    assert (actor.role, actor.agency) == ("caseworker", "sy-idlib-ngo")

    token_id = next(line for line in r.output.splitlines() if line.startswith("token T")).split()[1]
    assert run("tokens", "revoke", token_id).exit_code == 0
    with pytest.raises(Unauthenticated):
        actor_for_token(home, token)


def test_cli_rejections_name_the_field(home):
    r = run("agencies", "add", "eg-x", "--name", "Cairo", "--governorate", "Atlantis")
    assert r.exit_code == 2 and "governorate" in r.output
    run("agencies", "add", "eg-cairo-ngo", "--name", "Cairo Child Care", "--governorate", "EG-C")
    r = run("users", "add", "ahmed.fathy", "--agency", "eg-cairo-ngo", "--role", "emperor", "--password-stdin",
            stdin=PASSWORD + "\n")
    assert r.exit_code == 2 and "role" in r.output
    assert run("tokens", "revoke", "Tnothing").exit_code == 4
