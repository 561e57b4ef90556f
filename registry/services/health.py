"""Is the registry up, and how is it doing: for load balancers, monitoring and the administrators' checks.

Figures come from the database, so every worker of a server answers alike. None names a child or a user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, text

from registry.services.context import Registry
from registry.store.db import utcnow
from registry.store.migrate import schema_is_current
from registry.store.models import CaseRecord
from registry.store.tables.audit import AuditEventRow
from registry.store.tables.matching import SuspectedDuplicate


def database_answers(reg: Registry) -> bool:
    with reg.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return True


@dataclass(frozen=True)
class Readiness:
    ready: bool
    checks: dict[str, str] = field(default_factory=dict)  # check -> "ok" or what is wrong (no internals)


def readiness(reg: Registry) -> Readiness:
    """Ready to serve: the database answers, its schema is the code's, the keys are loaded, the model exists
    (lookups need it; without it they answer 503 and say so)."""
    checks: dict[str, str] = {}
    try:
        with reg.db.engine.connect() as conn:
            current, at, head = schema_is_current(reg.settings.database_url, conn)
        checks["database"] = "ok"
        checks["schema"] = "ok" if current else f"at {at or 'nothing'}, the code needs {head}: run `registry init`"
    except Exception as e:  # noqa: BLE001 - the kind of failure only: a message could hold the URL
        checks["database"] = f"not answering ({type(e).__name__})"
    checks["keys"] = "ok" if reg.keys.vault_keys else "no vault master key"
    if reg.model() is not None:
        checks["model"] = "ok"
    elif reg.settings.model_path.exists():
        checks["model"] = "written by an older version: run `registry dedupe` to retrain it"
    else:
        checks["model"] = "not trained yet: run `registry dedupe`"
    return Readiness(all(v == "ok" for k, v in checks.items() if k != "model"), checks)


@dataclass(frozen=True)
class Figures:
    records: dict[str, int]  # case records by status
    queue_open: int  # open pairs in the national unit's review queue
    lookups: dict[str, int]  # lookups by outcome (from the audit log)
    audit_entries: int
    last_checkpoint_age_seconds: float | None


def operational_figures(reg: Registry) -> Figures:
    with reg.db.sessions() as s:
        records = dict(s.execute(select(CaseRecord.status, func.count()).group_by(CaseRecord.status)).all())
        queue = s.scalar(select(func.count()).select_from(SuspectedDuplicate)
                         .where(SuspectedDuplicate.status == "open")) or 0
        lookups = dict(s.execute(select(AuditEventRow.outcome, func.count()).where(AuditEventRow.action == "lookup")
                                 .group_by(AuditEventRow.outcome)).all())
    latest = reg.audit.latest_checkpoint()
    age = (utcnow() - latest.at.replace(tzinfo=None)).total_seconds() if latest else None
    return Figures(records, queue, lookups, reg.audit.size(), age)
