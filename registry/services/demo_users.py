"""What `registry demo` adds for the pages: agencies for the demo's institutions and one demo user per role,
each with a newly generated password that is printed once (never stored in clear, never in a file)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from registry.accounts.secrets_ import hash_password
from registry.identity.governorates import find_governorate
from registry.services import accounts
from registry.services.context import Registry
from registry.store.models import CaseRecord
from registry.store.tables.accounts import Agency, User

NATIONAL_UNIT = "national-unit"


@dataclass(frozen=True)
class DemoUser:
    role: str
    username: str
    agency: str
    password: str


def _governorate_of(code: str) -> str:
    """Demo institution codes read `sy-homs-ngo-1`: the governorate is in the middle."""
    parts = code.split("-")
    for n in range(len(parts) - 1, 1, -1):
        gov = find_governorate(" ".join(parts[1:n]))
        if gov is not None:
            return gov.code
    return "EG-C" if code.startswith("eg-") else "SY-DI"


def ensure_agencies(reg: Registry) -> str:
    """An agency for every institution of the demo data, and the national unit; returns the busiest one."""
    with reg.db.unit_of_work() as s:
        counts = s.execute(select(CaseRecord.institution, func.count()).group_by(CaseRecord.institution)
                           .order_by(func.count().desc(), CaseRecord.institution)).all()
        known = set(s.scalars(select(Agency.code)))
    if NATIONAL_UNIT not in known:
        accounts.create_agency(reg, NATIONAL_UNIT, "National case-management unit", "SY-DI")
    for code, _ in counts:
        if code not in known and code != NATIONAL_UNIT:
            accounts.create_agency(reg, code, code.replace("-", " ").title(), _governorate_of(code))
    return counts[0][0] if counts else NATIONAL_UNIT


def demo_users(reg: Registry) -> list[DemoUser]:
    """One user per role; a new password each run (the old one stops working)."""
    busiest = ensure_agencies(reg)
    out = []
    for role, username, agency in (("national_reviewer", "reviewer", NATIONAL_UNIT), ("dpo", "dpo", NATIONAL_UNIT),
                                   ("caseworker", "caseworker", busiest), ("agency_admin", "agency.admin", busiest),
                                   ("system_admin", "sysadmin", NATIONAL_UNIT)):
        password = secrets.token_urlsafe(12)
        with reg.db.unit_of_work() as s:
            user = s.scalars(select(User).where(User.username == username)).first()
            if user is not None:
                user.password_hash = hash_password(password)
                user.active = True
        if user is None:
            accounts.create_user(reg, username, agency, role, password)
        out.append(DemoUser(role, username, agency, password))
    return out
