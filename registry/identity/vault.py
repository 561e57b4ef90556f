"""The vault: each record's identity encrypted under its own data key.

What is encrypted how:
- identity plaintext = canonical JSON of Identity.to_dict() (UTF-8, sorted keys);
- a fresh 32-byte data key per seal; ciphertext = nonce(24) || XChaCha20-Poly1305-IETF(plaintext,
  AAD = "registry/vault/identity/v1|record=<record_id>"), so a ciphertext moved to another record fails;
- the data key is wrapped by the current master key (registry.keys), AAD binding the record id and the master
  key version.
Erasure (crypto-shredding) destroys the wrapped data key and the ciphertext: nothing can be recovered.
Rotation re-wraps data keys under the newest master key; identities are not re-encrypted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import nacl.bindings as sodium
import nacl.utils
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.identity.model import Identity
from registry.keys import KeyRing
from registry.store.db import utcnow
from registry.store.models import VaultEntry

_NONCE = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


class Erased(LookupError):
    """The identity was erased; it cannot be read back by anyone."""


def _aad(record_id: str) -> bytes:
    return f"registry/vault/identity/v1|record={record_id}".encode()


class Vault:
    def __init__(self, keys: KeyRing):
        self._keys = keys

    def sealed(self, record_id: str, identity: Identity, canonical: str | None = None,
               now: dt.datetime | None = None) -> dict:
        """The vault row for a record's identity, encrypted: column values, ready to insert or update.
        `canonical` is identity.canonical_json() when the caller has it already (the import's digest); `now`
        the time it is sealed at, when the caller has it (the record's creation)."""
        plaintext = (canonical or identity.canonical_json()).encode("utf-8")
        data_key = nacl.utils.random(32)
        nonce = nacl.utils.random(_NONCE)
        ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, _aad(record_id), nonce, data_key)
        version, wrapped = self._keys.wrap_data_key(data_key, record_id)
        return {"record_id": record_id, "master_key_version": version, "wrapped_data_key": wrapped,
                "ciphertext": nonce + ct, "sealed_at": now or utcnow(), "erased_at": None}

    def seal(self, session: Session, record_id: str, identity: Identity) -> None:
        """Encrypt and store (or replace) a record's identity."""
        values = self.sealed(record_id, identity)
        entry = session.get(VaultEntry, record_id)
        if entry is None:
            session.add(VaultEntry(**values))
        else:
            for k, v in values.items():
                setattr(entry, k, v)

    def open(self, session: Session, record_id: str) -> Identity:
        """Decrypt a record's identity. Callers must have passed the policy check for this read."""
        entry = session.get(VaultEntry, record_id)
        if entry is None:
            raise LookupError(f"no vault entry for record {record_id}")
        if entry.wrapped_data_key is None or entry.ciphertext is None or entry.master_key_version is None:
            raise Erased(record_id)
        data_key = self._keys.unwrap_data_key(entry.wrapped_data_key, record_id, entry.master_key_version)
        blob = entry.ciphertext
        plaintext = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            blob[_NONCE:], _aad(record_id), blob[:_NONCE], data_key
        )
        return Identity.from_dict(json.loads(plaintext))

    def erase(self, session: Session, record_id: str) -> None:
        entry = session.get(VaultEntry, record_id)
        if entry is None:
            return
        entry.wrapped_data_key = None
        entry.ciphertext = None
        entry.master_key_version = None
        entry.erased_at = utcnow()

    def rotate(self, session_factory: Callable[[], Session], batch: int = 500,
               progress: Callable[[int], None] | None = None) -> int:
        """Re-wrap every data key not yet under the current master key, in small committed batches.

        Safe to run while the registry serves: each batch is its own transaction, readers can use either
        version meanwhile, and an interrupted rotation simply resumes.
        """
        current = self._keys.vault_current
        done = 0
        while True:
            with session_factory() as session, session.begin():
                entries = session.scalars(
                    select(VaultEntry)
                    .where(VaultEntry.master_key_version.is_not(None), VaultEntry.master_key_version != current)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                ).all()
                if not entries:
                    return done
                for entry in entries:
                    assert entry.wrapped_data_key is not None and entry.master_key_version is not None
                    entry.master_key_version, entry.wrapped_data_key = self._keys.rewrap_data_key(
                        entry.wrapped_data_key, entry.record_id, entry.master_key_version
                    )
                done += len(entries)
            if progress:
                progress(len(entries))

    def versions_in_use(self, session: Session) -> dict[int, int]:
        rows = session.execute(
            select(VaultEntry.master_key_version, func.count())
            .where(VaultEntry.master_key_version.is_not(None))
            .group_by(VaultEntry.master_key_version)
        ).all()
        return {int(v): int(n) for v, n in rows if v is not None}
