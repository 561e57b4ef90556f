"""The golden identity's rules, field by field, on records in Arabic and in Latin script."""

from __future__ import annotations

import datetime as dt

from registry.identity import validate_identity
from registry.identity.survivorship import SourceRecord, golden_identity

T0 = dt.datetime(2024, 1, 1)


def rec(record_id: str, days: int, **row: str) -> SourceRecord:
    identity = validate_identity({"institution": "sy-homs-ngo", "source_ref": record_id, **row})
    return SourceRecord(record_id, T0 + dt.timedelta(days=days), identity)


def test_arabic_names_are_shown_and_the_latin_spelling_is_kept():
    g = golden_identity([
        rec("R1", 5, given_name="Abdel Rahman", family_name="Al-Masri"),
        rec("R2", 1, given_name="عبد الرحمن", family_name="المصري"),
        rec("R3", 9, given_name="عبد", father_name="Khaled"),
    ])
    assert g.values["given_name"] == "عبد الرحمن" and g.sources["given_name"] == "R2"  # Arabic, most complete
    assert g.latin["given_name"] == "Abdel Rahman" and g.latin["family_name"] == "Al-Masri"
    assert g.values["father_name"] == "Khaled" and "father_name" not in g.latin  # only Latin given: kept as is


def test_exact_date_beats_partial_and_stated_beats_estimated():
    g = golden_identity([rec("R1", 9, given_name="سارة", date_of_birth="2016"),
                         rec("R2", 1, given_name="Sara", date_of_birth="2016-07-12"),
                         rec("R3", 5, given_name="سارة", date_of_birth="2016-07")])
    assert g.values["date_of_birth"] == "2016-07-12" and g.sources["date_of_birth"] == "R2"


def test_national_id_only_when_consistent_and_most_recent_place():
    agree = golden_identity([rec("R1", 1, given_name="Omar", national_id="01234567890", governorate="SY-HL"),
                             rec("R2", 3, given_name="عمر", national_id="01234567890", governorate="SY-DI")])
    assert agree.values["national_id"] == "01234567890" and agree.values["governorate"] == "SY-DI"
    clash = golden_identity([rec("R1", 1, given_name="Omar", national_id="01234567890"),
                             rec("R2", 3, given_name="عمر", national_id="09876543210")])
    assert clash.values["national_id"] is None and "national_id" in clash.conflicts


def test_a_reviewer_overrides_a_field_by_naming_the_record():
    records = [rec("R1", 1, given_name="محمد", sex="M"), rec("R2", 3, given_name="Mohamed", sex="M")]
    g = golden_identity(records, {"given_name": "R2"})
    assert g.values["given_name"] == "Mohamed" and g.rules["given_name"] == "reviewer's choice"
