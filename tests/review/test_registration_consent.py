"""A registration queues its possible duplicates, never with a child out of matching (its consent to
deduplication withdrawn): decided for the registration's matches alone, with the real matcher."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select

from registry.identity import validate_identity
from registry.services import lookups
from registry.store.db import utcnow
from registry.store.tables.consent import ConsentRecord
from registry.store.tables.matching import SuspectedDuplicate

_pairs = SuspectedDuplicate


def _queued_with(reg, record: str) -> set[str]:
    with reg.db.sessions() as s:
        rows = s.execute(select(_pairs.record_a, _pairs.record_b).where(
            or_(_pairs.record_a == record, _pairs.record_b == record), _pairs.status == "open")).all()
    return {a if b == record else b for a, b in rows}


def test_a_registration_queues_no_pair_with_a_child_out_of_matching(trained, kit):
    arabic, latin, egyptian = kit.mohammed  # one child: Arabic script in Homs, Latin in Aleppo, Arabic in Cairo
    arabic_child, arabic_record = kit.register(trained, arabic)
    egyptian_child, egyptian_record = kit.register(trained, egyptian)
    assert arabic_record in _queued_with(trained, egyptian_record)
    # The Latin record matches both: without the withdrawal it would be queued with both.
    found = {m.child_id for m in lookups.find_matches(trained, validate_identity(latin), set(), threshold=0.5)}
    assert {arabic_child, egyptian_child} <= found
    with trained.db.unit_of_work() as s:
        s.add(ConsentRecord(consent_id="Cwithdrawn77", child_id=arabic_child, purpose="deduplication",
                            given_on=dt.date(2024, 1, 1), recorded_by="U1", recorded_agency="sy-homs-ngo",
                            withdrawn_at=utcnow(), withdrawn_by="caregiver"))
    _, latin_record = kit.register(trained, latin)
    queued = _queued_with(trained, latin_record)
    assert egyptian_record in queued and arabic_record not in queued
