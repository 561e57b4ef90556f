"""`registry review`: the interactive loop and the non-interactive commands, acting as a reviewer who proves who
they are (their API token in REGISTRY_TOKEN, or their password)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from registry.cli.review import review_app
from registry.config import load_settings
from registry.services.accounts import create_agency, create_token, create_user
from registry.services.context import init_registry
from registry.store.db import Base


@pytest.fixture
def setup(tmp_path, monkeypatch, kit):
    monkeypatch.setenv("REGISTRY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REGISTRY_DATABASE_URL", raising=False)
    monkeypatch.delenv("REGISTRY_KEY_DIR", raising=False)
    monkeypatch.delenv("REGISTRY_TOKEN", raising=False)
    monkeypatch.delenv("REGISTRY_USER", raising=False)
    reg, _ = init_registry(load_settings())
    Base.metadata.create_all(reg.db.engine)  # review tables, until their migration exists
    create_agency(reg, "national-unit", "الوحدة الوطنية لإدارة الحالات", "SY-DI")
    create_user(reg, "reviewer", "national-unit", "national_reviewer", "generated password 1")
    (ca, ra), (cb, rb), (cc, rc) = (kit.register(reg, row) for row in kit.mohammed)
    pairs = kit.queue_pair(reg, ra, rb, 0.98), kit.queue_pair(reg, ra, rc, 0.91)
    monkeypatch.setenv("REGISTRY_TOKEN", create_token(reg, "reviewer").token)
    yield reg, (ca, cb, cc), pairs
    reg.close()


def run(*args: str, input: str | None = None, token: bool = True):
    env = None if token else {"REGISTRY_TOKEN": None}
    return CliRunner().invoke(review_app, list(args), input=input, env=env, catch_exceptions=False)


def test_interactive_review_shows_both_scripts_side_by_side_and_decides(setup):
    _reg, (ca, _cb, _cc), _pairs = setup
    out = run("--as", "reviewer", input="m\nn\n")
    assert out.exit_code == 0, out.output
    assert "محمد" in out.output and "Mohammed" in out.output and "الحلبي" in out.output
    assert f"merged into {ca}" in out.output and "not a duplicate" in out.output
    assert "the queue is empty" in out.output


def test_commands_queue_decide_lineage_undo_labels(setup):
    _reg, (ca, cb, _cc), (ab, ac) = setup
    assert run("queue", token=False).exit_code == 2  # who reviews must be said, and proven
    queue = run("--as", "reviewer", "queue")
    assert "1 clusters to review" in queue.output and cb in queue.output
    assert "محمد" not in queue.output  # the queue lists pseudonyms and reasons, never identities
    merged = run("--as", "reviewer", "decide", str(ab), "--merge")
    assert merged.exit_code == 0 and f"merged {cb} into {ca}" in merged.output
    merge_id = merged.output.split("merge ")[-1].strip()
    again = run("--as", "reviewer", "decide", str(ab), "--reject")
    assert again.exit_code == 5 and "already decided" in again.output  # 5: conflict with the stored state
    lin = run("--as", "reviewer", "lineage", cb)
    assert f"{cb} now resolves to {ca}" in lin.output and merge_id in lin.output
    undone = run("--as", "reviewer", "undo", merge_id)
    assert undone.exit_code == 0 and f"{cb} restored with 1 record" in undone.output
    assert run("--as", "reviewer", "decide", str(ac), "--reject").exit_code == 0
    labels = run("labels")
    assert "1 reviewed pairs: 0 same child, 1 not duplicates" in labels.output
    assert run("--as", "nobody", "queue").exit_code == 6  # the token is the reviewer's, not nobody's


def test_options_come_after_the_subcommand_too_and_a_password_proves_the_user(setup):
    queue = run("queue", "--as", "reviewer", "--password-stdin", input="generated password 1\n", token=False)
    assert queue.exit_code == 0 and "1 clusters to review" in queue.output
    wrong = run("queue", "--as", "reviewer", "--password-stdin", input="not the password at all\n", token=False)
    assert wrong.exit_code == 6 and "not signed in" in wrong.output
    assert "Traceback" not in wrong.output


def test_interactive_review_undoes_the_last_decision(setup):
    reg, (ca, cb, _cc), (ab, _ac) = setup
    out = run("--as", "reviewer", input="m\nu\nq\n")
    assert out.exit_code == 0, out.output
    assert f"merged into {ca}" in out.output and "undone" in out.output
    from registry.services.registration import get_child

    assert get_child(reg, cb, with_identity=False).child_id == cb  # restored: its own child again


def test_mounted_as_registry_review(setup):
    from registry.cli import app

    out = CliRunner().invoke(app, ["review", "--as", "reviewer", "queue"], catch_exceptions=False)
    assert out.exit_code == 0 and "1 clusters to review" in out.output
