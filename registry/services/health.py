"""Is the registry up: the database answers. For load balancers and the administrators' checks."""

from __future__ import annotations

from sqlalchemy import text

from registry.services.context import Registry


def database_answers(reg: Registry) -> bool:
    with reg.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return True
