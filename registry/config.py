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
    # Batch deduplication's engine: "duckdb" (embedded) or "spark" (docs/scale-out.md), and Spark's master URL
    # (None: spark-submit's --master, else local[2]). Checked where they are used (registry.services.dedupe).
    dedupe_engine: str = "duckdb"
    spark_master: str | None = None
    # Where the Spark engine writes the Parquet export its executors read: on a cluster, a folder every worker
    # mounts at the same path, apart from the home folder (which holds the keys). None: the work folder.
    spark_exchange_dir: Path | None = None
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
        dedupe_engine=os.environ.get("REGISTRY_DEDUPE_ENGINE") or "duckdb",
        spark_master=os.environ.get("REGISTRY_SPARK_MASTER") or None,
        spark_exchange_dir=(Path(os.environ["REGISTRY_SPARK_EXCHANGE_DIR"])
                            if os.environ.get("REGISTRY_SPARK_EXCHANGE_DIR") else None),
    )
