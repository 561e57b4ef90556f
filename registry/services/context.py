"""The composition root: settings, database, keys and the components built on them, created once per process.

Only the use cases (`registry.services`) and the faces know `Registry`; the wings are handed the narrow parts
they need (a session, the vault, the index, the model, a set of excluded children)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.audit import AuditLog
from registry.config import Settings, load_settings
from registry.files import secure_home
from registry.identity.vault import Vault
from registry.keys import KeyRing, create_key_dir, load_keys
from registry.matching.index import LinkageIndex
from registry.matching.model import LinkageModel, ModelFormatError
from registry.store.db import Database
from registry.store.migrate import upgrade


@dataclass
class Registry:
    settings: Settings
    db: Database
    keys: KeyRing
    vault: Vault
    audit: AuditLog

    index: LinkageIndex
    _model: tuple[float, Any] | None = None
    _model_lock: threading.Lock = field(default_factory=threading.Lock)

    def model(self) -> LinkageModel | None:
        """The trained linkage model, reloaded when its file changes; None before the first training, and None
        for a file an older version wrote (after an upgrade): lookups then answer "not available" and the next
        batch run retrains, instead of the server failing to start."""
        path = self.settings.model_path
        if not path.exists():
            return None
        mtime = path.stat().st_mtime
        if self._model is None or self._model[0] != mtime:
            with self._model_lock:  # one thread loads it; the others wait for that copy
                if self._model is None or self._model[0] != mtime:
                    try:
                        self._model = (mtime, LinkageModel.load(path))
                    except ModelFormatError:
                        self._model = (mtime, None)
        return self._model[1]

    def close(self) -> None:
        self.audit.close()
        self.db.dispose()


def open_registry(settings: Settings | None = None, keys: KeyRing | None = None) -> Registry:
    settings = settings or load_settings()
    secure_home(settings.home)  # 0700 / 0600: the database and work files hold children's encodings
    keys = keys or load_keys(settings.key_dir)
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    return Registry(settings=settings, db=db, keys=keys, vault=Vault(keys),
                    audit=audit_log_for(settings, db, keys), index=LinkageIndex(keys))


def audit_log_for(settings: Settings, db: Database, keys: KeyRing) -> AuditLog:
    """The audit log as configured: automatic checkpoints and the witnesses they are published to."""
    from registry.audit.witness import FileWitness, HttpWitness, Witness

    witnesses: list[Witness] = [FileWitness(p) for p in settings.audit_witness_files]
    witnesses += [HttpWitness(u) for u in settings.audit_witness_urls]
    return AuditLog(db, keys, origin=settings.audit_origin,
                    checkpoint_every=settings.audit_checkpoint_every or None,
                    checkpoint_seconds=settings.audit_checkpoint_seconds or None, witnesses=tuple(witnesses))


def init_registry(settings: Settings | None = None) -> tuple[Registry, bool]:
    """Create the home folder, the keys (if none yet) and the schema. Safe to run again."""
    settings = settings or load_settings()
    secure_home(settings.home)  # umask 077 before anything is created
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    secure_home(settings.home)
    created_keys = False
    try:
        keys = load_keys(settings.key_dir)
    except Exception:
        if Path(settings.key_dir, "vault-master.keys").exists():
            raise
        keys = create_key_dir(settings.key_dir)
        created_keys = True
    upgrade(settings.database_url)
    return open_registry(settings, keys), created_keys
