"""Backup and restore: a registry backed up while it serves, its keys apart, restored into a fresh home where
the audit log verifies and the vault opens. SQLite (online backup API) and PostgreSQL (pg_dump/pg_restore)."""

from __future__ import annotations

import json
import secrets
import stat

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from registry.cli import app
from registry.config import Settings
from registry.keys import VAULT_FILE
from registry.services.backup import backup, backup_keys, restore_registry
from registry.services.importing import import_file
from registry.synth import write_csv


def _filled(reg, tmp_path, n=40):
    write_csv(tmp_path / "list.csv", n, seed=11)  # both scripts, both countries
    import_file(reg, tmp_path / "list.csv", None)
    reg.audit.checkpoint()
    return reg


def _private(path):
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_backup_restores_into_a_fresh_home_where_the_log_verifies_and_the_vault_opens(registry, tmp_path):
    reg = _filled(registry, tmp_path)
    data, keys = tmp_path / "backup", tmp_path / "backup-keys"
    done = backup(reg, data)
    assert VAULT_FILE not in {p.name for p in data.iterdir()}  # the keys are never in the data backup
    assert backup_keys(reg, keys)[0] == VAULT_FILE
    assert _private(data) and all(_private(p) for p in data.iterdir()) and all(_private(p) for p in keys.iterdir())
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["audit_entries"] == done.audit_entries > 0 and manifest["latest_checkpoint"]
    text_of_backup = b"".join(p.read_bytes() for p in data.iterdir())
    assert "محمد".encode() not in text_of_backup and b"Mohamed" not in text_of_backup  # sealed, keyed only

    home = tmp_path / "restored"
    if reg.db.dialect == "sqlite":
        url = f"sqlite:///{home / 'registry.db'}"
        drop = None
    else:  # a fresh database on the same server, holding the same schema
        name = "restore_" + secrets.token_hex(4)
        admin = create_engine(reg.settings.database_url.split("?")[0], isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {name}"))
        base, query = reg.settings.database_url.split("?", 1)
        url = f"{base.rsplit('/', 1)[0]}/{name}?{query}"
        drop = name
    try:
        settings = Settings(home=home, database_url=url, key_dir=home / "keys")
        manifest, check = restore_registry(settings, data, keys)
        assert check.audit_ok, check.audit_summary
        assert check.vault_opened == check.vault_sampled > 0
        with pytest.raises(Exception, match="fresh home"):  # never over a registry
            restore_registry(settings, data, keys)
    finally:
        if drop:
            with admin.connect() as c:
                c.execute(text(f"DROP DATABASE {drop} WITH (FORCE)"))


def test_the_commands_back_up_and_restore_and_say_what_is_wrong(sqlite_registry, tmp_path, monkeypatch):
    reg = _filled(sqlite_registry, tmp_path, n=20)
    monkeypatch.setenv("REGISTRY_HOME", str(reg.settings.home))
    monkeypatch.delenv("REGISTRY_DATABASE_URL", raising=False)
    monkeypatch.delenv("REGISTRY_KEY_DIR", raising=False)
    monkeypatch.setenv("REGISTRY_DATABASE_URL", reg.settings.database_url)
    runner = CliRunner()
    made = runner.invoke(app, ["backup", str(tmp_path / "b")])
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["keys", "backup", str(tmp_path / "k")]).exit_code == 0
    again = runner.invoke(app, ["backup", str(tmp_path / "b")])
    # field and reason, no traceback (the message is wrapped to the terminal's width, so words are compared)
    assert again.exit_code == 2 and "not empty" in " ".join(again.output.split())

    fresh = tmp_path / "fresh"
    monkeypatch.setenv("REGISTRY_HOME", str(fresh))
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite:///{fresh / 'registry.db'}")
    restored = runner.invoke(app, ["restore", str(tmp_path / "b"), "--keys", str(tmp_path / "k")])
    assert restored.exit_code == 0, restored.output
    assert "OK" in restored.output and "sampled records open" in restored.output
    not_a_backup = runner.invoke(app, ["restore", str(tmp_path / "k")])
    assert not_a_backup.exit_code in (2, 5) and "Traceback" not in not_a_backup.output
