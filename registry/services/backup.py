"""Backup and restore, the administrator's use cases.

- `backup(reg, folder)`: the database (SQLite's online backup API, so the registry keeps serving; `pg_dump`
  in its custom format for PostgreSQL) and the saved model, with a manifest (time, schema revision, audit log
  size and latest checkpoint, SHA-256 of every file). No key is in it.
- `backup_keys(reg, folder)`: the key folder, by its own command, to be kept apart from the data: a data backup
  without its keys is ciphertext and keyed encodings only, and the keys without the data open nothing.
- `restore(settings, folder)` and `restore_keys(settings, folder)` into a fresh home (never over a live one),
  then `check_restored(reg)`: the audit log verifies and a sample of the vault opens.
Every folder and file written is owner-only (0700 / 0600).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from nacl.exceptions import CryptoError
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from registry import __version__
from registry.config import Settings
from registry.errors import Conflict, InvalidInput
from registry.files import private_dir, write_private
from registry.identity.vault import Erased
from registry.keys import AUDIT_FILE, AUDIT_PUBLIC_FILE, LINKAGE_FILE, VAULT_FILE
from registry.services.access import record_admin
from registry.services.context import Registry
from registry.store.models import VaultEntry

MANIFEST = "manifest.json"
SQLITE_FILE = "registry.db"
PG_FILE = "registry.pgdump"
MODEL_FILE = "linkage_model.json"
KEY_FILES = (VAULT_FILE, LINKAGE_FILE, AUDIT_FILE, AUDIT_PUBLIC_FILE)


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    files: dict[str, str]  # name -> sha256
    audit_entries: int


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _empty_folder(folder: Path, field: str) -> Path:
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise InvalidInput.one(field, f"{folder} is not empty: give a new folder")
    return private_dir(folder)


def _sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    return Path(u.database) if u.get_backend_name() == "sqlite" and u.database else None


def _pg_args(url: str) -> tuple[list[str], dict[str, str], str | None]:
    """pg_dump/pg_restore connection arguments from a SQLAlchemy URL (password through the environment), and
    the schema when the URL routes to one (options=-csearch_path=...)."""
    u = make_url(url)
    args = ["--host", u.host or "localhost", "--port", str(u.port or 5432), "--dbname", u.database or "postgres"]
    if u.username:
        args += ["--username", u.username]
    env = {"PGPASSWORD": u.password} if u.password else {}
    options = str(u.query.get("options", ""))
    schema = options.split("search_path=", 1)[1].split(",")[0].split()[0] if "search_path=" in options else None
    return args, env, schema


def _run_pg(tool: str, args: list[str], env: dict[str, str]) -> None:
    import os

    exe = shutil.which(tool)
    if exe is None:
        raise Conflict(f"{tool} is not installed on this machine: install PostgreSQL's client tools "
                       "(Debian: postgresql-client) or back up with the server's own tools")
    done = subprocess.run([exe, *args], env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        # pg_dump's message names objects and the connection, never row data.
        raise Conflict(f"{tool} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}")


def backup(reg: Registry, folder: Path) -> BackupReport:
    """Back up the database and the saved model into a new folder, with a manifest. Keys are not included."""
    folder = _empty_folder(folder, "folder")
    files: dict[str, str] = {}
    sqlite_path = _sqlite_path(reg.settings.database_url)
    if sqlite_path is not None:
        target = folder / SQLITE_FILE
        src, dst = sqlite3.connect(sqlite_path), sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)  # consistent while others write (WAL)
        finally:
            src.close()
            dst.close()
        target.chmod(0o600)
        files[SQLITE_FILE] = _sha256(target)
    else:
        args, env, schema = _pg_args(reg.settings.database_url)
        target = folder / PG_FILE
        _run_pg("pg_dump", [*args, "--format", "custom", "--no-owner", "--file", str(target),
                            *(["--schema", schema] if schema else [])], env)
        target.chmod(0o600)
        files[PG_FILE] = _sha256(target)
    if reg.settings.model_path.exists():
        shutil.copyfile(reg.settings.model_path, folder / MODEL_FILE)
        (folder / MODEL_FILE).chmod(0o600)
        files[MODEL_FILE] = _sha256(folder / MODEL_FILE)
    latest = reg.audit.latest_checkpoint()
    size = reg.audit.size()
    with reg.db.sessions() as s:
        revision = s.execute(select(func.max(_alembic_version()))).scalar()
    manifest = {"made_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "registry_version": __version__,
                "database": "sqlite" if sqlite_path else "postgresql", "schema_revision": revision,
                "audit_entries": size, "latest_checkpoint": latest.note if latest else None, "files": files,
                "keys": "not included: back them up with `registry keys backup`"}
    write_private(folder / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    record_admin(reg, "backup")
    return BackupReport(folder, files, size)


def _alembic_version():  # noqa: ANN202
    from sqlalchemy import column, table

    return table("alembic_version", column("version_num")).c.version_num


def backup_keys(reg: Registry, folder: Path) -> list[str]:
    """Copy the key folder's files into a new folder (0600 each). Keep it apart from the data backups."""
    folder = _empty_folder(folder, "folder")
    copied = []
    for name in KEY_FILES:
        src = reg.settings.key_dir / name
        if src.exists():
            shutil.copyfile(src, folder / name)
            (folder / name).chmod(0o600)
            copied.append(name)
    if VAULT_FILE not in copied:
        raise Conflict("the keys are not in a key folder here (they come from the environment): back them up "
                       "where they are kept")
    record_admin(reg, "keys-backup")
    return copied


def _read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise InvalidInput.one("folder", f"{folder} holds no {MANIFEST}: not a registry backup")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for name, digest in manifest.get("files", {}).items():
        if not (Path(folder) / name).is_file() or _sha256(Path(folder) / name) != digest:
            raise InvalidInput.one("folder", f"{name} is missing or does not match the manifest")
    return manifest


def restore(settings: Settings, folder: Path) -> dict:
    """Restore a backup into the (fresh) registry `settings` point at. Refuses to overwrite a database."""
    manifest = _read_manifest(folder)
    private_dir(settings.home)
    sqlite_path = _sqlite_path(settings.database_url)
    if manifest["database"] == "sqlite":
        if sqlite_path is None:
            raise InvalidInput.one("folder", "a SQLite backup restores into a SQLite registry (REGISTRY_DATABASE_URL)")
        if sqlite_path.exists() and sqlite_path.stat().st_size > 0:
            raise Conflict(f"{sqlite_path} exists: restore into a fresh home, never over a registry")
        src, dst = sqlite3.connect(Path(folder) / SQLITE_FILE), sqlite3.connect(sqlite_path)
        try:
            with dst:
                src.backup(dst)
        finally:
            src.close()
            dst.close()
        sqlite_path.chmod(0o600)
    else:
        if sqlite_path is not None:
            raise InvalidInput.one("folder", "a PostgreSQL backup restores into PostgreSQL (REGISTRY_DATABASE_URL)")
        args, env, _ = _pg_args(settings.database_url)
        _run_pg("pg_restore", [*args, "--no-owner", "--exit-on-error", str(Path(folder) / PG_FILE)], env)
    if (Path(folder) / MODEL_FILE).is_file():
        private_dir(settings.model_path.parent)
        shutil.copyfile(Path(folder) / MODEL_FILE, settings.model_path)
        settings.model_path.chmod(0o600)
    return manifest


def restore_keys(settings: Settings, folder: Path) -> list[str]:
    """Put backed-up keys into the (fresh) key folder. Refuses to replace keys that are there."""
    if (settings.key_dir / VAULT_FILE).exists():
        raise Conflict(f"{settings.key_dir} holds keys already: restore into a fresh home")
    private_dir(settings.key_dir)
    copied = []
    for name in KEY_FILES:
        if (Path(folder) / name).is_file():
            shutil.copyfile(Path(folder) / name, settings.key_dir / name)
            (settings.key_dir / name).chmod(0o600)
            copied.append(name)
    if VAULT_FILE not in copied:
        raise InvalidInput.one("folder", f"{folder} holds no {VAULT_FILE}: not a key backup")
    return copied


@dataclass(frozen=True)
class RestoreCheck:
    audit_ok: bool
    audit_summary: str
    vault_opened: int
    vault_sampled: int


def check_restored(reg: Registry, sample: int = 50) -> RestoreCheck:
    """After a restore: the audit log verifies against its checkpoints, and a sample of the vault opens with
    the restored keys (nothing is shown of it)."""
    report = reg.audit.verify()
    opened = sampled = 0
    with reg.db.sessions() as s:
        ids = list(s.scalars(select(VaultEntry.record_id).where(VaultEntry.ciphertext.is_not(None))
                            .order_by(VaultEntry.record_id).limit(sample)))
        for record_id in ids:
            sampled += 1
            try:
                reg.vault.open(s, record_id)
                opened += 1
            except Erased:
                sampled -= 1  # shredded since: nothing to open, by design
            except (CryptoError, KeyError, ValueError):
                continue  # not opened: the wrong keys, or a damaged entry
    record_admin(reg, "restore-check")
    return RestoreCheck(report.ok, report.summary(), opened, sampled)


def restore_registry(settings: Settings, folder: Path, keys_folder: Path | None = None) -> tuple[dict, RestoreCheck]:
    """The whole restore into a fresh home: the keys (when given), the data, then the check."""
    from registry.services.context import open_registry

    if keys_folder is not None:
        restore_keys(settings, keys_folder)
    manifest = restore(settings, folder)
    reg = open_registry(settings)
    try:
        return manifest, check_restored(reg)
    finally:
        reg.close()
