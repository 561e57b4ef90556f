"""`registry audit ...` commands against a real SQLite home folder. Reading the log is the DPO's: the reader
proves who they are (their token in REGISTRY_TOKEN), and the policy decides."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from registry.cli.audit import audit_app
from registry.config import load_settings
from registry.keys import AUDIT_PUBLIC_FILE
from registry.services.accounts import create_agency, create_token, create_user
from registry.services.context import init_registry
from registry.store.tables.audit import AuditEventRow

runner = CliRunner()


@pytest.fixture
def home(tmp_path, monkeypatch, make_event):
    monkeypatch.setenv("REGISTRY_HOME", str(tmp_path / "home"))
    for name in ("REGISTRY_DATABASE_URL", "REGISTRY_KEY_DIR", "REGISTRY_VAULT_MASTER_KEYS", "REGISTRY_TOKEN",
                 "REGISTRY_USER"):
        monkeypatch.delenv(name, raising=False)
    reg, _ = init_registry(load_settings())
    settings, db, log = reg.settings, reg.db, reg.audit
    create_agency(reg, "mosa-dpo", "Data protection office", "SY-DI")
    create_agency(reg, "agency-a", "Agency A", "SY-HL")
    create_user(reg, "dpo.one", "mosa-dpo", "dpo", "generated password 1")
    create_user(reg, "case.one", "agency-a", "caseworker", "generated password 2")
    monkeypatch.setenv("REGISTRY_TOKEN", create_token(reg, "dpo.one").token)
    for i in range(8):
        log.record(make_event(query_fingerprint=f"fp-{i}", children=(f"CR-CLI0-{i:04d}-X",)))
    log.record(make_event(action="read", outcome="success", break_glass=True, children=("CR-CLI0-0001-X",)))
    log.checkpoint()
    yield settings, db, reg
    reg.close()


def test_verify_checkpoint_and_export_then_verify_the_bundle(home, tmp_path):
    settings, _, _ = home
    result = runner.invoke(audit_app, ["verify"])
    assert result.exit_code == 0, result.output
    assert "OK: 10 entries" in result.output  # 9 events and the entry recording the checkpoint
    witness = tmp_path / "witness.jsonl"
    result = runner.invoke(audit_app, ["checkpoint", "--witness", str(witness)])
    assert result.exit_code == 0 and witness.exists()
    bundle = tmp_path / "b.jsonl"
    assert runner.invoke(audit_app, ["export", str(bundle)]).exit_code == 0
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
    _, db, _ = home
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


def test_reading_the_log_needs_a_proven_dpo(home):
    _, _, reg = home
    unproven = runner.invoke(audit_app, ["events", "--as", "someone-made-up"], env={"REGISTRY_TOKEN": None},
                             input="a guessed password\n")
    assert unproven.exit_code == 6 and "not signed in" in unproven.output
    caseworker = create_token(reg, "case.one").token
    denied = runner.invoke(audit_app, ["events"], env={"REGISTRY_TOKEN": caseworker})
    assert denied.exit_code == 3 and "denied" in denied.output
    assert "Traceback" not in denied.output + unproven.output
