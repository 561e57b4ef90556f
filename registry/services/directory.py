"""People and agencies by name, for pages that must never show a bare id (the DPO's views of the log)."""

from __future__ import annotations

from sqlalchemy import select

from registry.services.context import Registry
from registry.store.tables.accounts import Agency, User


def names(reg: Registry) -> tuple[dict[str, str], dict[str, str]]:
    """user id -> username, agency code -> agency name."""
    with reg.db.unit_of_work() as s:
        users = {u: n for u, n in s.execute(select(User.user_id, User.username))}
        agencies = {c: n for c, n in s.execute(select(Agency.code, Agency.name))}
    return users, agencies


def user_id_of(reg: Registry, username: str) -> str | None:
    with reg.db.unit_of_work() as s:
        return s.scalar(select(User.user_id).where(User.username == username))


def agency_name(reg: Registry, code: str) -> str:
    with reg.db.unit_of_work() as s:
        return s.scalar(select(Agency.name).where(Agency.code == code)) or code
