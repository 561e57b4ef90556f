"""An API world for the hardening tests: one user per role (tokens), a few registered children, one queued pair."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import insert, select

from registry.accounts.secrets_ import hash_password
from registry.identity import validate_identity
from registry.services.accounts import create_token
from registry.services.registration import register_child
from registry.store.db import Base
from registry.store.models import CaseRecord
from registry.store.tables.accounts import Agency, User
from registry.store.tables.matching import SuspectedDuplicate

ROLES = {  # username: (agency, role)
    "cw": ("sy-homs-ngo", "caseworker"),
    "admin": ("sy-homs-ngo", "agency_admin"),
    "reviewer": ("national-unit", "national_reviewer"),
    "dpo": ("national-unit", "dpo"),
    "sysadmin": ("national-unit", "system_admin"),
}
_HASH = hash_password("a generated test password")


@dataclass
class ApiWorld:
    reg: object
    tokens: dict[str, str]
    pair_id: int
    child_ids: list[str]

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def build_world(reg) -> ApiWorld:
    Base.metadata.create_all(reg.db.engine)
    with reg.db.unit_of_work() as s:
        s.add(Agency(code="sy-homs-ngo", name="Homs child protection", governorate="SY-HI",
                     focal_point_role="focal point"))
        s.add(Agency(code="national-unit", name="National unit", governorate="SY-DI", focal_point_role="duty"))
        s.flush()
        for i, (username, (agency, role)) in enumerate(ROLES.items()):
            s.add(User(user_id=f"U{i:04d}{username}"[:32], username=username, agency=agency, role=role,
                       password_hash=_HASH))
    rows = [{"institution": "sy-homs-ngo", "source_ref": f"HMS-{i}", "given_name": "محمد", "father_name": "أحمد",
             "family_name": "الحلبي", "sex": "M", "date_of_birth": f"2015-03-0{i + 1}", "governorate": "SY-HI"}
            for i in range(3)]
    results = [register_child(reg, validate_identity(r)) for r in rows]
    a, b = sorted(r.record_id for r in results[:2])
    with reg.db.unit_of_work() as s:
        da, db_ = (s.get(CaseRecord, r).content_digest for r in (a, b))
        s.execute(insert(SuspectedDuplicate).values(record_a=a, record_b=b, probability=0.97, match_weight=5.0,
                                                    source="registration", status="open", digest_a=da,
                                                    digest_b=db_))
        pair_id = s.scalars(select(SuspectedDuplicate.pair_id)).first()
    tokens = {u: create_token(reg, u).token for u in ROLES}
    return ApiWorld(reg, tokens, pair_id, [r.child_id for r in results])


@pytest.fixture
def api_world(sqlite_registry) -> ApiWorld:
    return build_world(sqlite_registry)
