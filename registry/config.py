"""The registry's settings: one object, read once from the environment and an optional TOML file.

Embedded default: everything under one home folder (REGISTRY_HOME, default ./registry-data): the SQLite file,
the key folder, DuckDB work files and the saved model. Production points REGISTRY_DATABASE_URL at PostgreSQL
and supplies keys by environment (see registry.keys, which reads them itself: no secret is a setting here).

Where a value comes from, strongest first: the code that builds a Settings (tests), the environment
(REGISTRY_...), the configuration file (REGISTRY_CONFIG, default HOME/registry.toml, keys named as the fields
below), the defaults. Every setting is described in docs/configuration.md; `registry config show` prints them
with secrets masked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings import SettingsError as _SourceError

DEFAULT_HOME = "registry-data"


def _env(name: str, field: str) -> Any:
    """The environment variable (and the file key) a field is read from."""
    return AliasChoices(name)


class Settings(BaseSettings):
    # env_prefix: a field is never read from a bare variable of its name (HOME is not the registry's home).
    model_config = SettingsConfigDict(frozen=True, extra="forbid", populate_by_name=True, case_sensitive=False,
                                      env_prefix="REGISTRY_",
                                      env_ignore_empty=True)

    home: Path = Field(default=Path(DEFAULT_HOME), validation_alias=_env("REGISTRY_HOME", "home"),
                       description="The registry's folder: SQLite file, key folder, model, work files")
    database_url: str = Field(default="", validation_alias=_env("REGISTRY_DATABASE_URL", "database_url"),
                              description="SQLAlchemy URL; default sqlite:///HOME/registry.db")
    key_dir: Path = Field(default=Path(), validation_alias=_env("REGISTRY_KEY_DIR", "key_dir"),
                          description="The key folder (when keys do not come from the environment); default HOME/keys")
    # Per server worker process: this many requests run at once (threads), each with a database connection of
    # its own from a pool of this size (plus as many again for a request that briefly needs a second one).
    db_pool_size: int = Field(default=16, ge=1, le=200, validation_alias=_env("REGISTRY_DB_POOL_SIZE", "db_pool_size"),
                              description="Database connections (and request threads) per worker process")
    # Quotas and thresholds that operators tune; the defaults suit a national deployment.
    lookup_quota_per_user_per_hour: int = Field(default=200, ge=1, validation_alias=_env(
        "REGISTRY_LOOKUP_QUOTA_USER", "lookup_quota_per_user_per_hour"), description="Lookups per user per hour")
    lookup_quota_per_agency_per_hour: int = Field(default=2000, ge=1, validation_alias=_env(
        "REGISTRY_LOOKUP_QUOTA_AGENCY", "lookup_quota_per_agency_per_hour"), description="Lookups per agency per hour")
    # Every lookup answer takes at least this long, match or not, so timing does not tell (0 disables;
    # None: registry.services.lookups.MIN_SECONDS).
    lookup_min_seconds: float | None = Field(default=None, ge=0, validation_alias=_env(
        "REGISTRY_LOOKUP_MIN_SECONDS", "lookup_min_seconds"),
        description="Minimum seconds per lookup answer (anti-timing floor); 0 disables")
    # The audit log's origin line in every signed checkpoint (one per deployment).
    audit_origin: str = Field(default="registry.local/audit-log", min_length=1, validation_alias=_env(
        "REGISTRY_AUDIT_ORIGIN", "audit_origin"), description="The origin line of the audit log's checkpoints")
    # The audit log signs a checkpoint once this many entries, or entries this old, are not covered by one
    # (0 turns either off), and publishes each to these witnesses (files and/or HTTP witness URLs).
    audit_checkpoint_every: int = Field(default=1000, ge=0, validation_alias=_env(
        "REGISTRY_AUDIT_CHECKPOINT_EVERY", "audit_checkpoint_every"),
        description="Sign a checkpoint every N entries (0: off)")
    audit_checkpoint_seconds: float = Field(default=300.0, ge=0, validation_alias=_env(
        "REGISTRY_AUDIT_CHECKPOINT_SECONDS", "audit_checkpoint_seconds"),
        description="Sign a checkpoint when entries are this old (0: off)")
    audit_witness_files: Annotated[tuple[Path, ...], NoDecode] = Field(default=(), validation_alias=_env(
        "REGISTRY_AUDIT_WITNESS_FILES", "audit_witness_files"),
        description="File witnesses of the checkpoints, separated by ':'")
    audit_witness_urls: Annotated[tuple[str, ...], NoDecode] = Field(default=(), validation_alias=_env(
        "REGISTRY_AUDIT_WITNESS_URLS", "audit_witness_urls"),
        description="HTTP witnesses of the checkpoints, separated by spaces or commas")
    # The HTTP API refuses larger request bodies with 413 (one child's record is a few KB).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, validation_alias=_env(
        "REGISTRY_MAX_BODY_BYTES", "max_body_bytes"), description="Largest request body the API accepts")
    # Batch deduplication's engine and Spark's master URL (None: spark-submit's --master, else local[2]); the
    # Spark engine's Parquet export goes to the exchange folder: on a cluster, one every worker mounts at the
    # same path, apart from the home folder (which holds the keys). docs/scale-out.md.
    dedupe_engine: Literal["duckdb", "spark"] = Field(default="duckdb", validation_alias=_env(
        "REGISTRY_DEDUPE_ENGINE", "dedupe_engine"), description="Batch deduplication engine: duckdb or spark")
    spark_master: str | None = Field(default=None, min_length=1, validation_alias=_env(
        "REGISTRY_SPARK_MASTER", "spark_master"),
        description="Spark master URL for --engine spark (default: spark-submit's, else local[2])")
    spark_exchange_dir: Path | None = Field(default=None, validation_alias=_env(
        "REGISTRY_SPARK_EXCHANGE_DIR", "spark_exchange_dir"),
        description="Folder for the Spark engine's Parquet export, seen by every worker (default HOME/work)")
    # A batch run merges the pairs it scores in the same-child band by itself (recorded as automatic, audited,
    # reversible); off, they go to the review queue ranked first (docs/review.md).
    auto_merge: bool = Field(default=True, validation_alias=_env("REGISTRY_AUTO_MERGE", "auto_merge"),
                             description="Batch runs merge same-child pairs automatically (false: queue them)")
    extra: dict[str, str] = Field(default_factory=dict, validation_alias=_env("REGISTRY_EXTRA", "extra"),
                                  description="Settings for extensions, as JSON (break_glass_hours)")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = config_file()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @field_validator("audit_witness_files", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> Any:
        if isinstance(value, str):  # from the environment: path-separator separated
            return tuple(Path(p) for p in value.split(os.pathsep) if p.strip())
        return value

    @field_validator("audit_witness_urls", mode="before")
    @classmethod
    def _urls(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(u for u in value.replace(",", " ").split() if u)
        return value

    @model_validator(mode="after")
    def _under_home(self) -> Settings:
        # Defaults that follow the home folder (frozen model: set once, here).
        home = self.home.resolve()
        object.__setattr__(self, "home", home)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{home / 'registry.db'}")
        if self.key_dir == Path():
            object.__setattr__(self, "key_dir", home / "keys")
        return self

    @property
    def model_path(self) -> Path:
        return self.home / "model" / "linkage_model.json"

    @property
    def work_dir(self) -> Path:
        return self.home / "work"


def config_file() -> Path | None:
    """REGISTRY_CONFIG, or HOME/registry.toml when it exists."""
    named = os.environ.get("REGISTRY_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise SettingsError(f"REGISTRY_CONFIG: no such file {path}")
        return path
    default = Path(os.environ.get("REGISTRY_HOME") or DEFAULT_HOME) / "registry.toml"
    return default if default.is_file() else None


class SettingsError(ValueError):
    """A setting is not usable; the message names the variable (or file key) and the reason."""


def _name(field: str) -> str:
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    choices = getattr(alias, "choices", None)
    return str(choices[0]) if choices else field


def load_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    try:
        return Settings(home=Path(home)) if home is not None else Settings()
    except _SourceError as e:
        raise SettingsError(str(e)) from None
    except ValidationError as e:
        problems = "; ".join(f"{_name(str(err['loc'][0]))}: {err['msg'].lower()}" if err["loc"] else err["msg"]
                             for err in e.errors())
        raise SettingsError(problems) from None


def describe(settings: Settings) -> list[tuple[str, str, str]]:
    """(variable, value, meaning) for every setting, secrets masked: for `registry config show`."""
    from sqlalchemy.engine import make_url

    rows = []
    for field, info in Settings.model_fields.items():
        value: Any = getattr(settings, field)
        if field == "database_url":
            value = make_url(value).render_as_string(hide_password=True)
        elif field == "audit_witness_urls":
            value = " ".join(make_url_safe(u) for u in value)
        elif isinstance(value, tuple):
            value = os.pathsep.join(str(v) for v in value)
        rows.append((_name(field), "" if value is None else str(value), info.description or ""))
    return rows


def make_url_safe(url: str) -> str:
    """A URL without the password its user part may carry."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
