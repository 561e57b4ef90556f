"""Key files: created once with mode 0600, never overwritten; environment provider for production."""

import base64
import os
import stat

import pytest

from registry.keys import KeysUnavailable, create_key_dir, load_keys


def test_key_files_are_private_and_folder_is_0700(tmp_path):
    create_key_dir(tmp_path / "keys")
    assert stat.S_IMODE(os.stat(tmp_path / "keys").st_mode) == 0o700
    for name in ("vault-master.keys", "linkage.key", "audit-signing.key"):
        assert stat.S_IMODE(os.stat(tmp_path / "keys" / name).st_mode) == 0o600


def test_init_refuses_to_overwrite_existing_keys(tmp_path):
    ring = create_key_dir(tmp_path / "keys")
    with pytest.raises(KeysUnavailable, match="refusing to overwrite"):
        create_key_dir(tmp_path / "keys")
    assert load_keys(tmp_path / "keys").linkage_key == ring.linkage_key


def test_keys_from_environment(monkeypatch, tmp_path):
    k = lambda b: base64.b64encode(bytes([b]) * 32).decode()  # noqa: E731
    monkeypatch.setenv("REGISTRY_VAULT_MASTER_KEYS", f"1:{k(1)},2:{k(2)}")
    monkeypatch.setenv("REGISTRY_LINKAGE_KEY", k(3))
    monkeypatch.setenv("REGISTRY_AUDIT_SIGNING_KEY", k(4))
    ring = load_keys(None)
    assert ring.vault_current == 2 and ring.vault_keys[1] == bytes([1]) * 32 and ring.key_dir is None
    with pytest.raises(KeysUnavailable, match="secret store"):
        ring.add_vault_master_key()


def test_short_key_in_environment_is_refused_with_the_reason(monkeypatch):
    monkeypatch.setenv("REGISTRY_VAULT_MASTER_KEYS", "1:" + base64.b64encode(b"short").decode())
    monkeypatch.setenv("REGISTRY_LINKAGE_KEY", "x")
    monkeypatch.setenv("REGISTRY_AUDIT_SIGNING_KEY", "x")
    with pytest.raises(KeysUnavailable, match="32 bytes"):
        load_keys(None)


def test_linkage_digest_depends_on_key_and_purpose(tmp_path):
    a, b = create_key_dir(tmp_path / "a"), create_key_dir(tmp_path / "b")
    assert a.linkage_digest("given", "محمد") != b.linkage_digest("given", "محمد")
    assert a.linkage_digest("given", "محمد") != a.linkage_digest("family", "محمد")
    assert a.linkage_digest("given", "محمد") == a.linkage_digest("given", "محمد")
