"""Key management, the administrator's use cases: rotate the vault master key (re-wrapping every data key while
the registry serves), rotate the linkage key (the index rebuilt from the vault), and report which keys are in
use. Each rotation is audited. Raw key bytes stay in `registry.keys`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from registry.services.access import record_admin
from registry.services.actor import SYSTEM, Actor
from registry.services.context import Registry, open_registry
from registry.services.reindex import rebuild_index
from registry.store.models import CaseRecord

Progress = Callable[[int], None]


@dataclass(frozen=True)
class VaultRotation:
    version: int
    rewrapped: int
    in_use: dict[int, int]  # master key version -> data keys it wraps
    retired: list[int]


def data_keys_to_rewrap(reg: Registry, version: int) -> int:
    with reg.db.unit_of_work() as s:
        return sum(n for v, n in reg.vault.versions_in_use(s).items() if v != version)


def rotate_vault_key(reg: Registry, retire: bool = False, progress: Progress | None = None,
                     on_new_version: Callable[[int, int], None] | None = None, actor: Actor = SYSTEM) -> VaultRotation:
    """A new master key version; every data key re-wrapped under it in committed batches; old versions
    deleted when `retire` and nothing uses them. `on_new_version(version, to_rewrap)` is told before work."""
    version = reg.keys.add_vault_master_key()
    if on_new_version is not None:
        on_new_version(version, data_keys_to_rewrap(reg, version))
    done = reg.vault.rotate(reg.db.sessions, progress=progress)
    in_use = key_versions_in_use(reg)
    retired = list(reg.keys.retire_vault_master_keys(keep=set(in_use)) or []) if retire else []
    record_admin(reg, "keys-rotate", actor=actor)
    return VaultRotation(version, done, in_use, retired)


def key_versions_in_use(reg: Registry) -> dict[int, int]:
    with reg.db.unit_of_work() as s:
        return dict(reg.vault.versions_in_use(s))


def live_records(reg: Registry) -> int:
    with reg.db.sessions() as s:
        return s.scalar(select(func.count()).select_from(CaseRecord).where(CaseRecord.status == "active")) or 0


def rotate_linkage_key(reg: Registry, progress: Progress | None = None, actor: Actor = SYSTEM) -> int:
    """A new linkage key: every encoding rebuilt from the vault under it; the model, whose term frequencies
    were keyed by the old key, is dropped (the next `registry dedupe` trains a new one). Returns the count."""
    reg.keys.replace_linkage_key()
    fresh = open_registry(reg.settings)  # a fresh encoder: its token cache belonged to the old key
    try:
        n = rebuild_index(fresh, progress=progress)
        fresh.settings.model_path.unlink(missing_ok=True)
        fresh.keys.forget_previous_linkage_key()
        record_admin(fresh, "linkage-key-rotate", actor=actor)
    finally:
        fresh.close()
    return n


def reindex(reg: Registry, progress: Progress | None = None) -> int:
    """Re-encode every record from the vault (after a change of encoding). Safe to run again."""
    return rebuild_index(reg, progress=progress)
