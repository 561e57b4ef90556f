"""The open registry: settings, database, keys and the components built on them, created once per process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from registry.audit import AuditLog
from registry.config import Settings, load_settings
from registry.files import secure_home
from registry.identity.vault import Vault
from registry.keys import KeyRing, create_key_dir, load_keys
from registry.matching.index import LinkageIndex
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

    def model(self) -> Any:
        """The trained linkage model (registry.matching.model.LinkageModel), reloaded when its file changes;
        None before the first training."""
        from registry.matching.model import LinkageModel

        path = self.settings.model_path
        if not path.exists():
            return None
        mtime = path.stat().st_mtime
        if self._model is None or self._model[0] != mtime:
            self._model = (mtime, LinkageModel.load(path))
        return self._model[1]

    def excluded_from_matching(self, session: Session) -> set[str]:
        """Children whose consent to deduplication was withdrawn: never matched for others."""
        from registry.consent import access

        return set(access.excluded_from_matching(session))

    def record_admin(self, action: str, children: tuple[str, ...] = (), session: Session | None = None,
                     by: str = "system-admin-cli") -> None:
        """Audit an administrator's action from the command line (import, erasure, key rotation, batch run):
        pseudonyms only, like every other event."""
        from registry.audit import AuditEvent

        self.audit.record(AuditEvent(action=action, outcome="success", user_id=by, role="system_admin",
                                     agency="registry", purpose="administration", legal_basis="legal-obligation",
                                     decision="permit", reason_code="permit.system-admin", children=children),
                          session=session)

    def close(self) -> None:
        self.db.dispose()


def open_registry(settings: Settings | None = None, keys: KeyRing | None = None) -> Registry:
    settings = settings or load_settings()
    secure_home(settings.home)  # 0700 / 0600: the database and work files hold children's encodings
    keys = keys or load_keys(settings.key_dir)
    db = Database(settings.database_url)
    return Registry(settings=settings, db=db, keys=keys, vault=Vault(keys), audit=audit_log_for(settings, db, keys),
                    index=LinkageIndex(keys))


def audit_log_for(settings: Settings, db: Database, keys: KeyRing) -> AuditLog:
    """The audit log as configured: automatic checkpoints and the witnesses they are published to."""
    import os

    from registry.audit.checkpoint import DEFAULT_ORIGIN
    from registry.audit.witness import FileWitness, HttpWitness, Witness

    witnesses: list[Witness] = [FileWitness(p) for p in settings.audit_witness_files]
    witnesses += [HttpWitness(u) for u in settings.audit_witness_urls]
    return AuditLog(db, keys, origin=os.environ.get("REGISTRY_AUDIT_ORIGIN", DEFAULT_ORIGIN),
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
