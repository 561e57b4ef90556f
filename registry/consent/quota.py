"""Lookup quotas per user and per agency: a sliding one-hour window over rows in the database.

Kept in the database (not in memory) so the limit holds across worker processes and restarts. On PostgreSQL
a transaction-scoped advisory lock per agency makes count-then-insert exact under concurrency; on SQLite the
database write lock serialises writers.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from sqlalchemy import bindparam, delete, func, insert, or_, select, text
from sqlalchemy.orm import Session

from registry.store.tables.consent import LookupQuotaHit

WINDOW = dt.timedelta(hours=1)
CLEAN_EVERY = 100

# Every lookup runs these: built once, run on the session's connection (no ORM work per statement).
_hits = LookupQuotaHit.__table__.c
_LOCK_AGENCY = text("SELECT pg_advisory_xact_lock(hashtext(:k))")
_COUNT_BOTH = select(func.count().filter(_hits.user_id == bindparam("user_id")),
                     func.count().filter(_hits.agency == bindparam("agency"))).where(
    or_(_hits.agency == bindparam("agency"), _hits.user_id == bindparam("user_id")), _hits.at > bindparam("since"))
_in_window = _hits.at > bindparam("since")
# One more hit, only if both counts are under their limits: the counts and the insert in one statement.
_ONE_MORE_HIT_WITHIN = insert(LookupQuotaHit.__table__).from_select(
    ["user_id", "agency", "at"],
    select(bindparam("user_id", type_=_hits.user_id.type), bindparam("agency", type_=_hits.agency.type),
           bindparam("now", type_=_hits.at.type))
    .where(select(func.count()).where(_hits.user_id == bindparam("user_id"), _in_window).scalar_subquery()
           < bindparam("per_user"),
           select(func.count()).where(_hits.agency == bindparam("agency"), _in_window).scalar_subquery()
           < bindparam("per_agency"))).execution_options(preserve_rowcount=True)  # an INSERT's rowcount: kept


def _retry_after(session: Session, column, value: str, since: dt.datetime, now: dt.datetime) -> int:
    oldest = session.scalar(select(func.min(LookupQuotaHit.at)).where(column == value, LookupQuotaHit.at > since))
    seconds = ((oldest or now) + WINDOW - now).total_seconds()
    return max(1, math.ceil(seconds))


def take_lookup_slot(session: Session, user_id: str, agency: str, per_user: int, per_agency: int,
                     now: dt.datetime) -> int | None:
    """Count one lookup if both quotas allow it and return None; otherwise the seconds until one frees up.

    The agency's lock is held from the count to the commit: one statement counts both quotas and inserts the
    hit if they allow it, which keeps that short (under load, every statement in it is a wait for all the
    agency's other lookups)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_AGENCY, {"k": "lookup-quota:" + agency})
    since = now - WINDOW
    taken = conn.execute(_ONE_MORE_HIT_WITHIN, {"user_id": user_id, "agency": agency, "now": now, "since": since,
                                                "per_user": per_user, "per_agency": per_agency}).rowcount
    if random.random() < 1 / CLEAN_EVERY:  # rows out of the window count for nothing: cleared now and then
        session.execute(delete(LookupQuotaHit).where(LookupQuotaHit.agency == agency, LookupQuotaHit.at <= since))
    if taken:
        return None
    by_user, by_agency = conn.execute(_COUNT_BOTH, {"user_id": user_id, "agency": agency, "since": since}).one()
    if by_user >= per_user:
        return _retry_after(session, LookupQuotaHit.user_id, user_id, since, now)
    return _retry_after(session, LookupQuotaHit.agency, agency, since, now)
