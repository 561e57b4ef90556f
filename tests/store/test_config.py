"""The settings: the environment over the configuration file over the defaults, each problem named by its
variable, and `registry config show` masking what is secret."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from registry.cli import app
from registry.config import SettingsError, load_settings

NAMES = ("REGISTRY_DATABASE_URL", "REGISTRY_KEY_DIR", "REGISTRY_CONFIG", "REGISTRY_LOOKUP_QUOTA_USER",
         "REGISTRY_AUDIT_WITNESS_FILES", "REGISTRY_MAX_BODY_BYTES", "REGISTRY_VAULT_MASTER_KEYS")


@pytest.fixture
def home(tmp_path, monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REGISTRY_HOME", str(tmp_path))
    return tmp_path


def test_environment_over_file_over_defaults(home, monkeypatch):
    assert load_settings().lookup_quota_per_user_per_hour == 200
    assert load_settings().database_url == f"sqlite:///{home / 'registry.db'}"
    (home / "registry.toml").write_text('lookup_quota_per_user_per_hour = 50\naudit_witness_files = ["/w/a"]\n')
    assert load_settings().lookup_quota_per_user_per_hour == 50
    monkeypatch.setenv("REGISTRY_LOOKUP_QUOTA_USER", "7")
    monkeypatch.setenv("REGISTRY_AUDIT_WITNESS_FILES", "/w/b:/w/c")
    s = load_settings()
    assert s.lookup_quota_per_user_per_hour == 7 and [str(p) for p in s.audit_witness_files] == ["/w/b", "/w/c"]
    other = home / "elsewhere.toml"
    other.write_text('max_body_bytes = 4096\n')
    monkeypatch.setenv("REGISTRY_CONFIG", str(other))
    assert load_settings().max_body_bytes == 4096


def test_each_problem_names_its_variable_and_reason(home, monkeypatch):
    monkeypatch.setenv("REGISTRY_MAX_BODY_BYTES", "a lot")
    with pytest.raises(SettingsError, match="REGISTRY_MAX_BODY_BYTES: input should be a valid integer"):
        load_settings()
    monkeypatch.delenv("REGISTRY_MAX_BODY_BYTES")
    (home / "registry.toml").write_text("lookup_quota = 5\n")
    with pytest.raises(SettingsError, match="lookup_quota: extra inputs are not permitted"):
        load_settings()
    result = CliRunner().invoke(app, ["config", "show"])
    assert result.exit_code != 0
    (home / "registry.toml").unlink()
    monkeypatch.setenv("REGISTRY_LOOKUP_QUOTA_USER", "-3")
    with pytest.raises(SettingsError, match="REGISTRY_LOOKUP_QUOTA_USER"):
        load_settings()


def test_config_show_masks_secrets(home, monkeypatch):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "postgresql+psycopg://registry:s3cret-pass@db.local/registry")
    monkeypatch.setenv("REGISTRY_VAULT_MASTER_KEYS", "1:c2VjcmV0LWtleS1ieXRlcw==")
    monkeypatch.setenv("COLUMNS", "250")  # one line a setting
    result = CliRunner().invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert "s3cret-pass" not in result.output and "c2VjcmV0" not in result.output
    assert "***" in result.output and "set (hidden)" in result.output
    assert "REGISTRY_LOOKUP_QUOTA_USER" in result.output


def test_a_bare_variable_of_a_fields_name_is_not_read(home, monkeypatch, tmp_path):
    """HOME is the user's home, not the registry's: only REGISTRY_ variables are settings."""
    monkeypatch.delenv("REGISTRY_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/db")
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.home == (tmp_path / "registry-data").resolve()
    assert s.database_url == f"sqlite:///{s.home / 'registry.db'}"
