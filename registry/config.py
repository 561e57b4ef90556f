"""Where the registry keeps its data and keys, read from the environment once.

Embedded default: everything under one home folder (REGISTRY_HOME, default ./registry-data):
the SQLite file, the key folder, DuckDB work files and the saved model. Production points
REGISTRY_DATABASE_URL at PostgreSQL and supplies keys by environment (see registry.keys).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    key_dir: Path
    # Quotas and thresholds that operators tune; the defaults suit a national deployment.
    lookup_quota_per_user_per_hour: int = 200
    lookup_quota_per_agency_per_hour: int = 2000
    # Every lookup answer takes at least this long, match or not, so timing does not tell (0 disables;
    # None: registry.services.lookups.MIN_SECONDS).
    lookup_min_seconds: float | None = None
    # The audit log's origin line in every signed checkpoint (one per deployment).
    audit_origin: str = "registry.local/audit-log"
    # The audit log signs a checkpoint once this many entries, or entries this old, are not covered by one
    # (0 turns either off), and publishes each to these witnesses (files and/or HTTP witness URLs).
    audit_checkpoint_every: int = 1000
    audit_checkpoint_seconds: float = 300.0
    audit_witness_files: tuple[Path, ...] = ()
    audit_witness_urls: tuple[str, ...] = ()
    # The HTTP API refuses larger request bodies with 413 (one child's record is a few KB).
    max_body_bytes: int = 1024 * 1024
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def model_path(self) -> Path:
        return self.home / "model" / "linkage_model.json"

    @property
    def work_dir(self) -> Path:
        return self.home / "work"


def load_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    home_path = Path(home or os.environ.get("REGISTRY_HOME", "registry-data")).resolve()
    url = os.environ.get("REGISTRY_DATABASE_URL") or f"sqlite:///{home_path / 'registry.db'}"
    key_dir = Path(os.environ.get("REGISTRY_KEY_DIR", home_path / "keys"))
    return Settings(
        home=home_path,
        database_url=url,
        key_dir=key_dir,
        lookup_quota_per_user_per_hour=int(os.environ.get("REGISTRY_LOOKUP_QUOTA_USER", "200")),
        lookup_quota_per_agency_per_hour=int(os.environ.get("REGISTRY_LOOKUP_QUOTA_AGENCY", "2000")),
        audit_origin=os.environ.get("REGISTRY_AUDIT_ORIGIN") or "registry.local/audit-log",
        lookup_min_seconds=(float(os.environ["REGISTRY_LOOKUP_MIN_SECONDS"])
                            if os.environ.get("REGISTRY_LOOKUP_MIN_SECONDS") else None),
        audit_checkpoint_every=_number("REGISTRY_AUDIT_CHECKPOINT_EVERY", 1000, int),
        audit_checkpoint_seconds=_number("REGISTRY_AUDIT_CHECKPOINT_SECONDS", 300.0, float),
        # Several witnesses: file paths separated by the path separator (":"), URLs by spaces or commas.
        audit_witness_files=tuple(Path(p) for p in os.environ.get("REGISTRY_AUDIT_WITNESS_FILES", "").split(
            os.pathsep) if p.strip()),
        max_body_bytes=_number("REGISTRY_MAX_BODY_BYTES", 1024 * 1024, int),
        audit_witness_urls=tuple(u for u in os.environ.get("REGISTRY_AUDIT_WITNESS_URLS", "").replace(
            ",", " ").split() if u),
    )


class SettingsError(ValueError):
    """A setting in the environment is not usable; the message names the variable and the reason."""


def _number(name: str, default, kind):
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = kind(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {text!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value
