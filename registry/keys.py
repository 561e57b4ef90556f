"""All key material, in one place. Nothing else in the registry touches raw key bytes.

Three independent secrets, so that no single leak exposes children (BRIEF section 4):
- vault master keys (versioned): wrap each child's data key (`wrap_data_key` / `unwrap_data_key`);
- the linkage key: keys the hashes of the linkage index (`linkage_digest`);
- the audit signing key (Ed25519): signs audit checkpoints (`audit_signing_key`, `audit_verify_key`).

Embedded default: a key folder (mode 0700) with one file per secret (mode 0600), created by `registry init`,
outside the database. Production: the same secrets from the environment
(REGISTRY_VAULT_MASTER_KEYS="1:<base64>,2:<base64>", REGISTRY_LINKAGE_KEY, REGISTRY_AUDIT_SIGNING_KEY),
which a KMS or secret store fills.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import nacl.bindings as sodium
import nacl.signing
import nacl.utils

from registry.files import write_private

VAULT_FILE = "vault-master.keys"
LINKAGE_FILE = "linkage.key"
AUDIT_FILE = "audit-signing.key"
AUDIT_PUBLIC_FILE = "audit-signing.pub"
KEY_BYTES = 32


class KeysUnavailable(RuntimeError):
    """Keys are missing or unusable; the message says which and what to do."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise KeysUnavailable(f"{what} is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise KeysUnavailable(f"{what} must be {KEY_BYTES} bytes, got {len(raw)}")
    return raw


def _write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600 from the start (never world-readable, even briefly)."""
    write_private(path, text)


@dataclass
class KeyRing:
    vault_keys: dict[int, bytes]
    vault_current: int
    linkage_key: bytes
    audit_seed: bytes
    key_dir: Path | None = None  # None when the keys came from the environment

    # ---- vault master keys -------------------------------------------------------------------------
    def wrap_data_key(self, data_key: bytes, record_id: str) -> tuple[int, bytes]:
        """Encrypt a data key under the current master key; AAD binds the record id and the key version."""
        version = self.vault_current
        return version, self._wrap(data_key, record_id, version)

    def _wrap(self, data_key: bytes, record_id: str, version: int) -> bytes:
        nonce = nacl.utils.random(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
        aad = _wrap_aad(record_id, version)
        ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(data_key, aad, nonce, self.vault_keys[version])
        return nonce + ct

    def unwrap_data_key(self, wrapped: bytes, record_id: str, version: int) -> bytes:
        key = self.vault_keys.get(version)
        if key is None:
            raise KeysUnavailable(f"vault master key version {version} is not available")
        n = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
        return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            wrapped[n:], _wrap_aad(record_id, version), wrapped[:n], key
        )

    def rewrap_data_key(self, wrapped: bytes, record_id: str, version: int) -> tuple[int, bytes]:
        """Re-encrypt a wrapped data key under the current master key (key rotation)."""
        return self.wrap_data_key(self.unwrap_data_key(wrapped, record_id, version), record_id)

    def add_vault_master_key(self) -> int:
        """Create a new master key version and make it current. The old versions stay until retired."""
        version = max(self.vault_keys) + 1
        self.vault_keys[version] = nacl.utils.random(KEY_BYTES)
        self.vault_current = version
        self._save_vault()
        return version

    def retire_vault_master_keys(self, keep: set[int]) -> list[int]:
        gone = [v for v in self.vault_keys if v not in keep and v != self.vault_current]
        for v in gone:
            del self.vault_keys[v]
        self._save_vault()
        return gone

    def _save_vault(self) -> None:
        if self.key_dir is None:
            raise KeysUnavailable("keys come from the environment: rotate them in the secret store, not here")
        _write_private(self.key_dir / VAULT_FILE, _vault_json(self.vault_keys, self.vault_current))

    # ---- linkage key -------------------------------------------------------------------------------
    def replace_linkage_key(self) -> None:
        """A new linkage key (the old one is kept as linkage.key.previous until the index is rebuilt).

        Every token changes: the caller must rebuild the linkage index and retrain the model.
        """
        if self.key_dir is None:
            raise KeysUnavailable("keys come from the environment: rotate them in the secret store, not here")
        current = self.key_dir / LINKAGE_FILE
        _write_private(self.key_dir / (LINKAGE_FILE + ".previous"), current.read_text())
        self.linkage_key = nacl.utils.random(KEY_BYTES)
        _write_private(current, _b64(self.linkage_key) + "\n")

    def forget_previous_linkage_key(self) -> None:
        if self.key_dir is not None:
            (self.key_dir / (LINKAGE_FILE + ".previous")).unlink(missing_ok=True)

    def linkage_digest(self, purpose: str, value: str, size: int = 16) -> bytes:
        """Keyed BLAKE2b of a value, domain-separated by purpose (e.g. 'given_name.unit')."""
        h = hashlib.blake2b(key=self.linkage_key, digest_size=size, person=b"registry-link-v1")
        h.update(purpose.encode("utf-8") + b"\x00" + value.encode("utf-8"))
        return h.digest()

    def content_digest(self, value: str) -> str:
        """Keyed fingerprint of content (e.g. an imported row) for idempotence checks, never reversible."""
        return hashlib.blake2b(
            value.encode("utf-8"), key=self.linkage_key, digest_size=20, person=b"registry-cont-v1"
        ).hexdigest()

    # ---- audit signing key --------------------------------------------------------------------------
    def audit_signing_key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(self.audit_seed)

    def audit_verify_key(self) -> nacl.signing.VerifyKey:
        return self.audit_signing_key().verify_key


def _wrap_aad(record_id: str, version: int) -> bytes:
    return f"registry/vault/data-key/v1|record={record_id}|master-key-version={version}".encode()


def _vault_json(keys: dict[int, bytes], current: int) -> str:
    return json.dumps({"current": current, "keys": {str(v): _b64(k) for v, k in sorted(keys.items())}}, indent=1)


def create_key_dir(key_dir: Path) -> KeyRing:
    """Create a fresh key folder (init). Refuses to overwrite existing keys: losing them loses every child."""
    key_dir = Path(key_dir)
    existing = [f for f in (VAULT_FILE, LINKAGE_FILE, AUDIT_FILE) if (key_dir / f).exists()]
    if existing:
        raise KeysUnavailable(f"keys already exist in {key_dir} ({', '.join(existing)}); refusing to overwrite")
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(key_dir, 0o700)
    ring = KeyRing(
        vault_keys={1: nacl.utils.random(KEY_BYTES)},
        vault_current=1,
        linkage_key=nacl.utils.random(KEY_BYTES),
        audit_seed=nacl.utils.random(KEY_BYTES),
        key_dir=key_dir,
    )
    ring._save_vault()
    _write_private(key_dir / LINKAGE_FILE, _b64(ring.linkage_key) + "\n")
    _write_private(key_dir / AUDIT_FILE, _b64(ring.audit_seed) + "\n")
    (key_dir / AUDIT_PUBLIC_FILE).write_text(_b64(bytes(ring.audit_verify_key())) + "\n")
    return ring


def load_keys(key_dir: Path | None = None) -> KeyRing:
    """Keys from the environment when set there, otherwise from the key folder."""
    env = os.environ
    if env.get("REGISTRY_VAULT_MASTER_KEYS"):
        keys: dict[int, bytes] = {}
        for part in env["REGISTRY_VAULT_MASTER_KEYS"].split(","):
            version, _, text = part.partition(":")
            keys[int(version)] = _unb64(text, f"REGISTRY_VAULT_MASTER_KEYS version {version}")
        for name in ("REGISTRY_LINKAGE_KEY", "REGISTRY_AUDIT_SIGNING_KEY"):
            if not env.get(name):
                raise KeysUnavailable(f"{name} must be set when REGISTRY_VAULT_MASTER_KEYS is")
        return KeyRing(
            vault_keys=keys,
            vault_current=int(env.get("REGISTRY_VAULT_MASTER_CURRENT", max(keys))),
            linkage_key=_unb64(env["REGISTRY_LINKAGE_KEY"], "REGISTRY_LINKAGE_KEY"),
            audit_seed=_unb64(env["REGISTRY_AUDIT_SIGNING_KEY"], "REGISTRY_AUDIT_SIGNING_KEY"),
        )
    if key_dir is None:
        raise KeysUnavailable("no keys: set REGISTRY_VAULT_MASTER_KEYS etc., or run `registry init`")
    key_dir = Path(key_dir)
    if not (key_dir / VAULT_FILE).exists():
        raise KeysUnavailable(f"no key folder at {key_dir}: run `registry init` first")
    data = json.loads((key_dir / VAULT_FILE).read_text())
    return KeyRing(
        vault_keys={int(v): _unb64(k, f"vault master key {v}") for v, k in data["keys"].items()},
        vault_current=int(data["current"]),
        linkage_key=_unb64((key_dir / LINKAGE_FILE).read_text(), LINKAGE_FILE),
        audit_seed=_unb64((key_dir / AUDIT_FILE).read_text(), AUDIT_FILE),
        key_dir=key_dir,
    )


def load_audit_public_key(path: Path) -> nacl.signing.VerifyKey:
    """The public half only: what a DPO needs to verify an exported log."""
    text = Path(path).read_text().strip()
    return nacl.signing.VerifyKey(_unb64(text, str(path)))
