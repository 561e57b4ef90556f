"""validate_identity: every field, good and bad, in Arabic and Latin; all errors of a record at once.

All names, references and ID numbers are invented for the tests.
"""

from __future__ import annotations

import datetime as dt

import pytest

from registry.errors import FieldError, InvalidInput
from registry.identity import CHAIN_FIELDS, NAME_FIELDS, Identity, PartialDate, validate_identity

BASE = {"institution": "ngo-aleppo", "source_ref": "case-0001"}


def valid(**fields) -> Identity:
    return validate_identity({**BASE, **fields})


def errors_of(raw: dict, institution: str | None = None) -> list[FieldError]:
    with pytest.raises(InvalidInput) as exc:
        validate_identity(raw, institution=institution)
    return exc.value.errors


def only_error(**fields) -> FieldError:
    errors = errors_of({**BASE, **fields})
    assert len(errors) == 1, errors
    return errors[0]




# --- institution and source reference -------------------------------------------------------------


def test_minimal_record_needs_only_institution_and_source_ref():
    ident = valid()
    assert (ident.institution, ident.source_ref) == ("ngo-aleppo", "case-0001")
    assert all(getattr(ident, f) is None for f in NAME_FIELDS)
    assert (ident.sex, ident.date_of_birth, ident.governorate, ident.place_of_birth, ident.national_id) == (
        None, None, None, None, None,
    )  # fmt: skip


@pytest.mark.parametrize("inst", ["ngo-aleppo", "UNICEF_EG", "sarc.damascus", "a1", "X" * 40, " ngo1 ", "ngo\u200b1"])
def test_institution_accepts_codes_of_2_to_40_letters_digits_dash_underscore_dot(inst):
    assert valid(institution=inst).institution == inst.strip().replace("\u200b", "")


@pytest.mark.parametrize(
    "inst",
    ["a", "X" * 41, "-ngo", ".ngo", "ngo aleppo", "منظمة", "ngo/1", "ngo#1", "Aïcha-ngo"],
    ids=["too-short", "too-long", "leading-dash", "leading-dot", "space", "arabic", "slash", "hash", "accent"],
)
def test_institution_rejects_other_codes(inst):
    e = only_error(institution=inst)
    assert e == FieldError("institution", "must be a code of 2-40 letters, digits, '-', '_' or '.'")


@pytest.mark.parametrize("inst", [None, "", "   ", "\u200f"])
def test_institution_is_required(inst):
    assert only_error(institution=inst) == FieldError("institution", "is required")


def test_institution_argument_overrides_the_record():
    ident = validate_identity({**BASE, "institution": "other-ngo"}, institution="ngo-cairo")
    assert ident.institution == "ngo-cairo"
    ident = validate_identity({"source_ref": "r-1"}, institution="ngo-cairo")
    assert ident.institution == "ngo-cairo"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("case-0001", "case-0001"),
        ("EG/CAI/2023/0042", "EG/CAI/2023/0042"),
        ("file:17#3", "file:17#3"),
        ("A.B_C", "A.B_C"),
        ("ملف-١٧", "ملف-17"),  # Arabic letters kept, Arabic-Indic digits read
        ("R" * 64, "R" * 64),
        ("  ref-9  ", "ref-9"),
    ],
)
def test_source_ref_accepts_letters_digits_and_separators_in_both_scripts(ref, expected):
    assert valid(source_ref=ref).source_ref == expected


@pytest.mark.parametrize("ref", ["R" * 65, "case 0001", "case,1", "case;1", "case'1", "<script>"])
def test_source_ref_rejects_long_or_oddly_punctuated_references(ref):
    e = only_error(source_ref=ref)
    assert e.field == "source_ref"
    assert e.reason == "must be up to 64 letters, digits or - . / : #"


@pytest.mark.parametrize("ref", [None, "", "  "])
def test_source_ref_is_required(ref):
    assert only_error(source_ref=ref) == FieldError("source_ref", "is required")


# --- names ---------------------------------------------------------------------------------------------

GOOD_NAMES = [
    ("محمد", "محمد"),
    ("عبد الله", "عبد الله"),
    ("مُحَمَّد", "مُحَمَّد"),  # harakat kept as written
    ("عَبْدُ ٱللَّٰه", "عَبْدُ ٱللَّٰه"),  # alef wasla and dagger alef
    ("محمـــد", "محمـــد"),  # tatweel kept as written
    ("علی", "علي"),  # FARSI YEH folded
    ("کریم", "كريم"),  # KEHEH folded
    ("ڤيڤيان", "ڤيڤيان"),  # veh, used for V in Arabic spellings
    ("Mohamed", "Mohamed"),
    ("Dia'a", "Dia'a"),
    ("Dia\u2019a", "Dia\u2019a"),  # typographic apostrophe
    ("El-Khoury", "El-Khoury"),
    ("Aïcha", "Aïcha"),
    ("Ai\u0308cha", "Aïcha"),  # decomposed accent composed
    ("Muḥammad", "Muḥammad"),  # scholarly transliteration
    ("Abd al-ʿAziz", "Abd al-ʿAziz"),
    ("Mhd.", "Mhd."),
    ("  Abdel   Rahman ", "Abdel Rahman"),
    ("Ah\u200bmad", "Ahmad"),  # zero-width removed
    ("\u202bمحمد\u202c", "محمد"),  # bidi embedding removed
    ("\u2067Nour\u2069", "Nour"),  # isolate removed
]


@pytest.mark.parametrize("field", NAME_FIELDS)
@pytest.mark.parametrize(("raw", "expected"), GOOD_NAMES)
def test_name_fields_accept_arabic_and_latin_names_and_clean_them(field, raw, expected):
    assert getattr(valid(**{field: raw}), field) == expected


BAD_NAMES = [
    ("Ahmad2", "may contain only Arabic or Latin letters, spaces, hyphens and apostrophes"),
    ("محمد٢", "may contain only Arabic or Latin letters, spaces, hyphens and apostrophes"),  # Arabic-Indic digit
    ("Ali_Hassan", "may contain only Arabic or Latin letters, spaces, hyphens and apostrophes"),
    ("Ahmad@", "may contain only Arabic or Latin letters, spaces, hyphens and apostrophes"),
    ("Ahmad, Ali", "may contain only Arabic or Latin letters, spaces, hyphens and apostrophes"),
    ("Иван", "may contain only Arabic or Latin letters, spaces, hyphens and apostrophes"),  # Cyrillic
    ("Ahm\u0430d", "may contain only Arabic or Latin letters, spaces, hyphens and apostrophes"),  # Cyrillic a
    ("محمد Mohamed", "mixes Arabic and Latin letters: give one script per field"),
    ("Abdالله", "mixes Arabic and Latin letters: give one script per field"),
    ("\u064e\u064f\u0650", "has no letters (only marks or punctuation)"),  # harakat only
    ("ـــ", "has no letters (only marks or punctuation)"),  # tatweel only
    ("-'.", "has no letters (only marks or punctuation)"),
    ("A" * 101, "longer than 100 characters"),
    ("م" * 101, "longer than 100 characters"),
]


@pytest.mark.parametrize("field", NAME_FIELDS)
@pytest.mark.parametrize(("raw", "reason"), BAD_NAMES)
def test_name_fields_reject_digits_symbols_mixed_scripts_marks_only_and_overlong(field, raw, reason):
    assert only_error(**{field: raw}) == FieldError(field, reason)


@pytest.mark.parametrize("field", NAME_FIELDS)
def test_name_fields_accept_exactly_100_characters_after_cleaning(field):
    assert getattr(valid(**{field: "A" * 100}), field) == "A" * 100
    # invisible characters do not count towards the limit
    assert getattr(valid(**{field: "A" * 100 + "\u200b" * 5}), field) == "A" * 100


@pytest.mark.parametrize("field", NAME_FIELDS)
@pytest.mark.parametrize("raw", [None, "", "   ", "\u200b\u200f"])
def test_name_fields_treat_blank_or_invisible_only_as_absent(field, raw):
    assert getattr(valid(**{field: raw}), field) is None


def test_names_returns_only_the_present_name_fields():
    ident = valid(given_name="Aïcha", family_name="El-Khoury", mother_given_name="فاطمة")
    assert ident.names() == {"given_name": "Aïcha", "family_name": "El-Khoury", "mother_given_name": "فاطمة"}


# --- full name -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [
        ("محمد عبد الله الحسن", {"given_name": "محمد", "father_name": "عبد الله", "family_name": "الحسن"}),
        (
            "Mohamed Abdel Rahman El-Hassan",
            {"given_name": "Mohamed", "father_name": "Abdel Rahman", "family_name": "El-Hassan"},
        ),
    ],
)
def test_full_name_is_split_into_the_chain_with_compound_units_kept_whole(full_name, expected):
    ident = valid(full_name=full_name)
    assert {f: getattr(ident, f) for f in CHAIN_FIELDS if getattr(ident, f)} == expected
    assert ident.grandfather_name is None


def test_full_name_is_cleaned_before_splitting():
    ident = valid(full_name="\u202bمحمد\u200b  عبد الله   الحسن\u202c")
    assert (ident.given_name, ident.father_name, ident.family_name) == ("محمد", "عبد الله", "الحسن")


def test_full_name_is_ignored_when_chain_parts_are_given():
    ident = valid(full_name="Mohamed Abdel Rahman El-Hassan", given_name="Ahmad", family_name="Saleh")
    assert (ident.given_name, ident.father_name, ident.family_name) == ("Ahmad", None, "Saleh")


def test_full_name_is_ignored_even_if_malformed_when_chain_parts_are_given():
    assert valid(full_name="Ahmad 2", father_name="Ali").father_name == "Ali"


@pytest.mark.parametrize(
    ("full_name", "reason"),
    [
        ("Mohamed 2nd Hassan", "may contain only Arabic or Latin letters, spaces, hyphens and apostrophes"),
        ("محمد Abdel الحسن", "mixes Arabic and Latin letters: give one script per field"),
        ("\u064e \u064f", "has no letters (only marks or punctuation)"),
        ("Ali " * 30, "longer than 100 characters"),
    ],
)
def test_full_name_is_validated_like_a_name_field(full_name, reason):
    assert only_error(full_name=full_name) == FieldError("full_name", reason)


# --- sex -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("M", "M"), ("m", "M"), ("male", "M"), ("Male", "M"), ("MALE", "M"), (" boy ", "M"), ("ذكر", "M"), ("ذ", "M"),
        ("F", "F"), ("f", "F"), ("female", "F"), ("Female", "F"), ("girl", "F"),
        ("أنثى", "F"), ("انثى", "F"), ("أنثي", "F"), ("انثي", "F"), ("\u200fأنثى", "F"),
    ],
)  # fmt: skip
def test_sex_accepts_every_spelling_in_arabic_and_latin(raw, expected):
    assert valid(sex=raw).sex == expected


@pytest.mark.parametrize("raw", ["X", "unknown", "1", "2", "MF", "man", "woman", "ولد", "بنت", "غير معروف", "m f"])
def test_sex_rejects_other_values(raw):
    assert only_error(sex=raw) == FieldError("sex", "must be M or F (male/female, ذكر/أنثى)")


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_sex_is_optional(raw):
    assert valid(sex=raw).sex is None


# --- date of birth -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2015-03-07", PartialDate(2015, 3, 7)),
        ("07/03/2015", PartialDate(2015, 3, 7)),
        ("2015-03", PartialDate(2015, 3)),
        ("2015", PartialDate(2015)),
        ("~2015", PartialDate(2015, estimated=True)),
        ("حوالي 2015", PartialDate(2015, estimated=True)),
        ("تقريبا ٢٠١٥", PartialDate(2015, estimated=True)),
        ("٠٧/٠٣/٢٠١٥", PartialDate(2015, 3, 7)),
        ("۲۰۱۵-۰۳", PartialDate(2015, 3)),
        ("29/02/2016", PartialDate(2016, 2, 29)),
        (dt.date(2015, 3, 7), PartialDate(2015, 3, 7)),
    ],
)
def test_date_of_birth_accepts_exact_partial_estimated_and_arabic_digit_forms(raw, expected):
    assert valid(date_of_birth=raw).date_of_birth == expected


@pytest.mark.parametrize(
    ("raw", "reason_part"),
    [
        ("2015-13-01", "the month does not exist (1-12)"),
        ("31/04/2015", "the day does not exist in that month"),
        ("29/02/2015", "the day does not exist in that month"),
        ("2099-01-01", "in the future"),
        ("1985", "before 1990"),
        ("soon", "not a date"),
        ("١٥/١٥/٢٠١٥", "the month does not exist (1-12)"),
    ],
)
def test_date_of_birth_rejects_impossible_future_old_and_garbage_dates(raw, reason_part):
    e = only_error(date_of_birth=raw)
    assert e.field == "date_of_birth"
    assert reason_part in e.reason


# --- governorate and place of birth ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("SY-HL", "SY-HL"), ("sy-hl", "SY-HL"), ("Aleppo", "SY-HL"), ("حلب", "SY-HL"), ("Halab", "SY-HL"),
        ("EG-C", "EG-C"), ("Cairo", "EG-C"), ("القاهرة", "EG-C"),
        ("Deir ez-Zor", "SY-DY"), ("دير الزور", "SY-DY"), ("Kafr El Sheikh", "EG-KFS"), ("Fayoum", "EG-FYM"),
    ],
)  # fmt: skip
def test_governorate_is_stored_as_its_iso_code(raw, code):
    ident = valid(governorate=raw)
    assert ident.governorate == code
    assert ident.country == code[:2]


@pytest.mark.parametrize("raw", ["Beirut", "بيروت", "SY-XX", "Gotham"])
def test_governorate_rejects_unknown_names_and_codes(raw):
    assert only_error(governorate=raw) == FieldError(
        "governorate", "unknown: use an ISO 3166-2 code (SY-DI, EG-C) or its name"
    )


def test_country_is_none_without_a_governorate():
    assert valid().country is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jisr al-Shughur", "Jisr al-Shughur"),
        ("جسر الشغور", "جسر الشغور"),
        ("  مستشفى  المواساة \u200f", "مستشفى المواساة"),
        ("Camp 3, sector B", "Camp 3, sector B"),  # free text: digits and commas are fine here
        ("P" * 100, "P" * 100),
        ("", None),
    ],
)
def test_place_of_birth_is_cleaned_free_text(raw, expected):
    assert valid(place_of_birth=raw).place_of_birth == expected


def test_place_of_birth_rejects_more_than_100_characters():
    assert only_error(place_of_birth="P" * 101) == FieldError("place_of_birth", "longer than 100 characters")


# --- national ID in the record -----------------------------------------------------------------------

# Generated: 2000s, 2015-03-07, Cairo (01), serial 0012 -> female, check digit 3.
EG_NID = "31503070100123"
EG_RECORD = {"date_of_birth": "2015-03-07", "sex": "F", "governorate": "EG-C"}


@pytest.mark.parametrize(
    ("raw", "extra", "expected"),
    [
        ("01234567890", {}, "01234567890"),
        ("012-345-678-90", {"governorate": "SY-DI"}, "01234567890"),
        ("٠١٢٣٤٥٦٧٨٩٠", {"governorate": "Aleppo"}, "01234567890"),
        ("۰۱۲۳۴۵۶۷۸۹۰", {}, "01234567890"),
        (EG_NID, EG_RECORD, EG_NID),
        ("3 150307 01 0012 3", EG_RECORD, EG_NID),
        ("٣١٥٠٣٠٧٠١٠٠١٢٣", EG_RECORD, EG_NID),
        (EG_NID, {}, EG_NID),  # nothing to compare against
        (EG_NID, {"date_of_birth": "~2014"}, EG_NID),  # estimates are not compared
        (EG_NID, {"date_of_birth": "2015-03", "sex": "female", "governorate": "القاهرة"}, EG_NID),
        ("31503078800123", {**EG_RECORD, "governorate": "Aswan"}, "31503078800123"),  # born abroad: 88
    ],
)
def test_national_id_accepts_well_formed_ids_consistent_with_the_record(raw, extra, expected):
    assert valid(national_id=raw, **extra).national_id == expected


DOB_DIFFERS = "digits 2-7 encode a date of birth that differs from the record's"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({**EG_RECORD, "date_of_birth": "2015-03-08"}, DOB_DIFFERS),
        ({**EG_RECORD, "date_of_birth": "2016"}, DOB_DIFFERS),
        ({**EG_RECORD, "sex": "M"}, "digit 13 encodes a sex that differs from the record's"),
        ({**EG_RECORD, "sex": "ذكر"}, "digit 13 encodes a sex that differs from the record's"),
        ({**EG_RECORD, "governorate": "Giza"}, "digits 8-9 encode a governorate that differs from the record's"),
    ],
    ids=["dob-day", "dob-year", "sex", "sex-arabic", "governorate"],
)
def test_national_id_reports_each_contradiction_with_the_record(extra, reason):
    assert only_error(national_id=EG_NID, **extra) == FieldError("national_id", reason)


def test_national_id_reports_all_contradictions_with_the_record_at_once():
    errors = errors_of({**BASE, "national_id": EG_NID, "date_of_birth": "2016-01-01", "sex": "M",
                        "governorate": "EG-GZ"})
    assert [e.field for e in errors] == ["national_id"] * 3
    assert "date of birth" in errors[0].reason
    assert "sex" in errors[1].reason
    assert "governorate" in errors[2].reason


@pytest.mark.parametrize(
    ("raw", "extra", "reason"),
    [
        ("11503070100123", {}, "first digit (century) must be 2 or 3"),
        ("51503070100123", {"governorate": "EG-C"}, "first digit (century) must be 2 or 3"),
        ("31513070100123", {}, "digits 2-7 are not a valid date of birth"),
        ("31502290100123", {}, "digits 2-7 are not a valid date of birth"),  # 29 Feb 2015
        ("31503079900123", {}, "digits 8-9 are not an Egyptian governorate code"),
        ("3150307010012A", {}, "must contain only digits"),
        ("ID-01234567890", {}, "must contain only digits"),
        ("0123456789", {}, "must have 11 digits (Syria) or 14 digits (Egypt)"),
        ("012345678901", {}, "must have 11 digits (Syria) or 14 digits (Egypt)"),
        ("0123456789", {"governorate": "SY-DI"}, "a Syrian national ID has 11 digits, this one has 10"),
        (EG_NID, {"governorate": "Damascus"}, "a Syrian national ID has 11 digits, this one has 14"),
        ("01234567890", {"governorate": "EG-C"}, "an Egyptian national ID has 14 digits, this one has 11"),
    ],
)
def test_national_id_rejects_malformed_ids_with_the_reason(raw, extra, reason):
    assert only_error(national_id=raw, **extra) == FieldError("national_id", reason)


# --- all errors at once ------------------------------------------------------------------------------


def test_every_bad_field_of_one_record_is_reported_at_once():
    raw = {
        "institution": "منظمة",
        "source_ref": "case 1",
        "given_name": "Ahmad2",
        "father_name": "محمد Mohamed",
        "grandfather_name": "\u064e\u064f",
        "family_name": "X" * 101,
        "mother_given_name": "Ali_",
        "mother_family_name": "حسن٣",
        "sex": "unknown",
        "date_of_birth": "31/02/2015",
        "governorate": "Atlantis",
        "place_of_birth": "P" * 101,
        "national_id": "31503079900123",
    }
    errors = errors_of(raw)
    assert [e.field for e in errors] == [
        "institution", "source_ref", *NAME_FIELDS, "sex", "date_of_birth", "governorate", "place_of_birth",
        "national_id",
    ]  # fmt: skip
    by_field = {e.field: e.reason for e in errors}
    assert "code" in by_field["institution"]
    assert "mixes Arabic and Latin" in by_field["father_name"]
    assert "no letters" in by_field["grandfather_name"]
    assert "longer than 100" in by_field["family_name"]
    assert "the day does not exist in that month" in by_field["date_of_birth"]
    assert "digits 8-9 are not" in by_field["national_id"]


def test_missing_required_fields_and_a_bad_optional_one_are_reported_together():
    errors = errors_of({"given_name": "Ahmad1"})
    assert [(e.field, e.reason) for e in errors] == [
        ("institution", "is required"),
        ("source_ref", "is required"),
        ("given_name", "may contain only Arabic or Latin letters, spaces, hyphens and apostrophes"),
    ]


def test_invalid_input_message_names_every_field_and_reason():
    with pytest.raises(InvalidInput) as exc:
        validate_identity({"institution": "ngo1", "source_ref": "r1", "sex": "?", "governorate": "?"})
    assert str(exc.value) == (
        "sex: must be M or F (male/female, ذكر/أنثى); "
        "governorate: unknown: use an ISO 3166-2 code (SY-DI, EG-C) or its name"
    )
    assert [e.as_dict() for e in exc.value.errors][0] == {
        "field": "sex",
        "reason": "must be M or F (male/female, ذكر/أنثى)",
    }


# --- a full record and its dict form ---------------------------------------------------------------


FULL_RECORD = {
    "institution": "ngo-cairo",
    "source_ref": "EG/CAI/0042",
    "given_name": "مُحَمَّد",
    "father_name": "عبد الله",
    "grandfather_name": "Abdel Rahman",
    "family_name": "El-Khoury",
    "mother_given_name": "Aïcha",
    "mother_family_name": "Dia'a",
    "sex": "انثى",
    "date_of_birth": "٠٧/٠٣/٢٠١٥",
    "governorate": "Cairo",
    "place_of_birth": "مستشفى القصر العيني",
    "national_id": "3-150307-01-0012-3",
}


def test_full_record_is_validated_into_a_clean_identity():
    ident = validate_identity(FULL_RECORD)
    assert ident == Identity(
        institution="ngo-cairo",
        source_ref="EG/CAI/0042",
        given_name="مُحَمَّد",
        father_name="عبد الله",
        grandfather_name="Abdel Rahman",
        family_name="El-Khoury",
        mother_given_name="Aïcha",
        mother_family_name="Dia'a",
        sex="F",
        date_of_birth=PartialDate(2015, 3, 7),
        governorate="EG-C",
        place_of_birth="مستشفى القصر العيني",
        national_id="31503070100123",
    )
    assert ident.country == "EG"


def test_to_dict_gives_plain_values_with_the_date_as_text():
    d = validate_identity(FULL_RECORD).to_dict()
    assert d["date_of_birth"] == "2015-03-07"
    assert d["sex"] == "F" and d["governorate"] == "EG-C" and d["national_id"] == "31503070100123"
    assert set(d) == {
        "institution", "source_ref", *NAME_FIELDS, "sex", "date_of_birth", "governorate", "place_of_birth",
        "national_id",
    }  # fmt: skip


@pytest.mark.parametrize(
    "ident",
    [
        Identity("ngo1", "r1"),
        Identity("ngo1", "r1", given_name="Aïcha", date_of_birth=PartialDate(2015, estimated=True)),
        Identity("ngo1", "r1", family_name="الحسن", date_of_birth=PartialDate(2016, 2)),
        Identity("ngo1", "r1", date_of_birth=PartialDate(2016, 2, 29), sex="M", governorate="SY-RD"),
    ],
    ids=["minimal", "estimated-year", "year-month", "leap-day"],
)
def test_identity_round_trips_through_to_dict_and_from_dict(ident):
    assert Identity.from_dict(ident.to_dict()) == ident


def test_full_identity_round_trips_through_to_dict_and_from_dict():
    ident = validate_identity(FULL_RECORD)
    assert Identity.from_dict(ident.to_dict()) == ident


def test_from_dict_ignores_unknown_keys():
    d = {**Identity("ngo1", "r1", given_name="Ali").to_dict(), "extra": "ignored", "full_name": "x"}
    assert Identity.from_dict(d) == Identity("ngo1", "r1", given_name="Ali")


def test_with_changes_returns_a_changed_copy():
    ident = Identity("ngo1", "r1", given_name="Ali")
    changed = ident.with_changes(given_name="Omar")
    assert (ident.given_name, changed.given_name, changed.source_ref) == ("Ali", "Omar", "r1")
