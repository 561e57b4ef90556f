"""`registry audit ...` commands against a real SQLite home folder."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from registry.audit.cli import audit_app
from registry.audit.log import AuditLog
from registry.audit.tables import AUDIT_TABLES, AuditEventRow
from registry.config import load_settings
from registry.keys import AUDIT_PUBLIC_FILE, create_key_dir
from registry.store.db import Base, Database

runner = CliRunner()


@pytest.fixture
def home(tmp_path, monkeypatch, make_event):
    monkeypatch.setenv("REGISTRY_HOME", str(tmp_path / "home"))
    for name in ("REGISTRY_DATABASE_URL", "REGISTRY_KEY_DIR", "REGISTRY_VAULT_MASTER_KEYS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    settings.home.mkdir(parents=True)
    keys = create_key_dir(settings.key_dir)
    db = Database(settings.database_url)
    Base.metadata.create_all(db.engine, tables=AUDIT_TABLES)
    log = AuditLog(db, keys, checkpoint_every=None)
    for i in range(8):
        log.record(make_event(query_fingerprint=f"fp-{i}", children=(f"CR-CLI0-{i:04d}-X",)))
    log.record(make_event(action="read", outcome="success", break_glass=True, children=("CR-CLI0-0001-X",)))
    log.checkpoint()
    yield settings, db
    db.dispose()


def test_verify_checkpoint_and_export_then_verify_the_bundle(home, tmp_path):
    settings, _ = home
    result = runner.invoke(audit_app, ["verify"])
    assert result.exit_code == 0, result.output
    assert "OK: 10 entries" in result.output  # 9 events and the entry recording the checkpoint
    witness = tmp_path / "witness.jsonl"
    result = runner.invoke(audit_app, ["checkpoint", "--witness", str(witness)])
    assert result.exit_code == 0 and witness.exists()
    bundle = tmp_path / "b.jsonl"
    assert runner.invoke(audit_app, ["export", str(bundle), "--reader", "u-dpo"]).exit_code == 0
    result = runner.invoke(
        audit_app,
        [
            "verify",
            "--bundle",
            str(bundle),
            "--public-key",
            str(settings.key_dir / AUDIT_PUBLIC_FILE),
            "--trusted",
            str(witness),
        ],
    )
    assert result.exit_code == 0, result.output
    # + the CLI's checkpoint recorded, the export itself logged first
    assert "OK: 13 entries" in result.output  # and the checkpoint the export makes, recorded


def test_verify_fails_and_names_the_entry(home):
    _, db = home
    with db.unit_of_work() as s:
        raw = s.get(AuditEventRow, 2).entry.replace(b"no-match", b"success!")
        s.execute(update(AuditEventRow).where(AuditEventRow.leaf_index == 2).values(entry=raw))
    result = runner.invoke(audit_app, ["verify"])
    assert result.exit_code == 1
    assert "FAILED at entry 2" in result.output


def test_events_and_flags(home):
    result = runner.invoke(audit_app, ["events", "--child", "CR-CLI0-0001-X", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [e["index"] for e in data] == [1, 8]
    result = runner.invoke(audit_app, ["events", "--user", "u-caseworker-1", "--limit", "3"])
    assert result.exit_code == 0 and "More: --after 2" in result.output
    result = runner.invoke(
        audit_app,
        ["events", "--format", "csv", "--since", "2026-03-02", "--until", dt.date(2026, 3, 3).isoformat()],
    )
    assert result.exit_code == 0 and result.stdout.startswith("index,at,")
    result = runner.invoke(audit_app, ["flags"])
    assert result.exit_code == 0 and "break-glass" in result.output
