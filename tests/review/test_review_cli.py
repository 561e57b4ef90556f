"""`registry review`: the interactive loop and the non-interactive commands, acting as a named reviewer."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from registry.accounts import create_agency, create_user
from registry.config import load_settings
from registry.review.cli import review_app
from registry.services.context import init_registry
from registry.store.db import Base


@pytest.fixture
def setup(tmp_path, monkeypatch, kit):
    monkeypatch.setenv("REGISTRY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REGISTRY_DATABASE_URL", raising=False)
    monkeypatch.delenv("REGISTRY_KEY_DIR", raising=False)
    monkeypatch.delenv("REGISTRY_REVIEWER", raising=False)
    reg, _ = init_registry(load_settings())
    Base.metadata.create_all(reg.db.engine)  # review tables, until their migration exists
    create_agency(reg, "national-unit", "الوحدة الوطنية لإدارة الحالات", "SY-DI")
    create_user(reg, "reviewer", "national-unit", "national_reviewer", "generated password 1")
    (ca, ra), (cb, rb), (cc, rc) = (kit.register(reg, row) for row in kit.mohammed)
    pairs = kit.queue_pair(reg, ra, rb, 0.98), kit.queue_pair(reg, ra, rc, 0.91)
    yield reg, (ca, cb, cc), pairs
    reg.close()


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(review_app, list(args), input=input, catch_exceptions=False)


def test_interactive_review_shows_both_scripts_side_by_side_and_decides(setup):
    _reg, (ca, _cb, _cc), _pairs = setup
    out = run("--as", "reviewer", input="m\nn\n")
    assert out.exit_code == 0, out.output
    assert "محمد" in out.output and "Mohammed" in out.output and "الحلبي" in out.output
    assert f"merged into {ca}" in out.output and "not a duplicate" in out.output
    assert "the queue is empty" in out.output


def test_commands_queue_decide_lineage_undo_labels(setup):
    _reg, (ca, cb, _cc), (ab, ac) = setup
    assert run("queue").exit_code == 2  # who reviews must be said
    queue = run("--as", "reviewer", "queue")
    assert "1 clusters to review" in queue.output and cb in queue.output
    assert "محمد" not in queue.output  # the queue lists pseudonyms and reasons, never identities
    merged = run("--as", "reviewer", "decide", str(ab), "--merge")
    assert merged.exit_code == 0 and f"merged {cb} into {ca}" in merged.output
    merge_id = merged.output.split("merge ")[-1].strip()
    again = run("--as", "reviewer", "decide", str(ab), "--reject")
    assert again.exit_code == 1 and "already decided" in again.output
    lin = run("--as", "reviewer", "lineage", cb)
    assert f"{cb} now resolves to {ca}" in lin.output and merge_id in lin.output
    undone = run("--as", "reviewer", "undo", merge_id)
    assert undone.exit_code == 0 and f"{cb} restored with 1 record" in undone.output
    assert run("--as", "reviewer", "decide", str(ac), "--reject").exit_code == 0
    labels = run("labels")
    assert "1 reviewed pairs: 0 same child, 1 not duplicates" in labels.output
    assert run("--as", "nobody", "queue").exit_code == 1


def test_mounted_as_registry_review(setup):
    from registry.cli import app

    out = CliRunner().invoke(app, ["review", "--as", "reviewer", "queue"], catch_exceptions=False)
    assert out.exit_code == 0 and "1 clusters to review" in out.output
