"""The synthetic generator: deterministic, valid rows, the intended duplicates, twins and national IDs."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict

import pytest

from registry.errors import InvalidInput
from registry.identity import validate_identity
from registry.identity.national_id import check_national_id, egyptian_id_facts, normalise_national_id
from registry.names.text import script_of
from registry.synth import IMPORT_COLUMNS, TRUTH_COLUMNS, generate, iter_records, write_csv

N = 6000


@pytest.fixture(scope="module")
def result():
    return generate(N, seed=7)


def _parse_chain_available() -> bool:
    try:
        from registry.names import parse_chain  # noqa: F401
    except ImportError:
        return False
    return True


def _validate(row: dict) -> None:
    """validate_identity; a full-name-only row needs the matcher's chain parser, so without it the full name
    is checked as one name field instead."""
    if row["full_name"] and not _parse_chain_available():
        row = {**row, "given_name": row["full_name"], "full_name": None}
    validate_identity(row)


def test_deterministic_given_the_seed():
    a = [r.row for r in generate(500, seed=3).records]
    b = [r.row for r in generate(500, seed=3).records]
    c = [r.row for r in generate(500, seed=4).records]
    assert a == b
    assert a != c


def test_exact_row_count_and_columns(result):
    assert len(result.records) == N
    for rec in result.records[:100]:
        assert tuple(rec.row) == IMPORT_COLUMNS
        assert tuple(rec.truth()) == TRUTH_COLUMNS


def test_every_row_is_valid(result):
    failures = []
    for rec in result.records:
        try:
            _validate(rec.row)
        except InvalidInput as e:
            failures.append((rec.row, str(e)))
    assert not failures, failures[:5]


def test_bad_rows_are_rejected_and_marked():
    res = generate(3000, seed=11, bad_row_rate=0.1)
    bad = [r for r in res.records if r.bad_row]
    assert 200 < len(bad) < 400
    kinds = Counter(t for r in bad for t in r.noise if t.startswith("bad:"))
    assert len(kinds) >= 8
    for rec in bad:
        with pytest.raises(InvalidInput):
            _validate(rec.row)
    for rec in res.records:
        if not rec.bad_row:
            _validate(rec.row)


def test_duplicates_at_the_intended_rate(result):
    per_person = Counter(r.person_id for r in result.records)
    dup_share = sum(1 for c in per_person.values() if c > 1) / len(per_person)
    assert 0.33 < dup_share < 0.47  # 40% of children registered more than once
    assert max(per_person.values()) <= 4


def test_cross_script_and_cross_governorate_duplicates_exist(result):
    scripts = defaultdict(set)
    places = defaultdict(set)
    count = Counter(r.person_id for r in result.records)
    for r in result.records:
        scripts[r.person_id].add(script_of(r.row["given_name"] or r.row["full_name"]))
        places[r.person_id].add(r.row["institution"].rsplit("-", 2)[0])  # "sy-aleppo"
    dups = [p for p, c in count.items() if c > 1]
    assert sum(1 for p in dups if len(scripts[p]) > 1) > 0.3 * len(dups)
    assert sum(1 for p in dups if len(places[p]) > 1) > 0.2 * len(dups)


def test_arabic_and_latin_names_present(result):
    scripts = Counter(script_of(r.row["given_name"]) for r in result.records if r.row["given_name"])
    assert scripts["arabic"] > 0.3 * N and scripts["latin"] > 0.3 * N


def test_country_spelling_conventions(result):
    # Egyptian institutions write ج as g (Gamal), Syrian ones as j (Jamal), by the data's counts.
    latin = defaultdict(Counter)
    for r in result.records:
        for f in ("father_name", "grandfather_name"):
            v = r.row[f]
            if v and v.lower() in ("gamal", "jamal"):
                latin[r.row["institution"][:2]][v.lower()] += 1
    if latin["eg"] and latin["sy"]:
        assert latin["eg"]["gamal"] > latin["eg"]["jamal"]
        assert latin["sy"]["jamal"] > latin["sy"]["gamal"]


def test_twins_share_birth_and_parents_but_are_distinct(result):
    truth = {r.person_id: r for r in result.records}
    twins = [r for r in truth.values() if r.twin_of]
    assert len(twins) > 0.02 * len(truth)
    checked = 0
    for a in twins:
        b = truth.get(a.twin_of)
        if b is None:
            continue
        assert a.person_id != b.person_id
        assert a.family_id == b.family_id
        assert a.true_date_of_birth == b.true_date_of_birth
        assert b.twin_of == a.person_id
        checked += 1
    assert checked > 20


def test_twins_and_siblings_have_different_given_names():
    from registry.synth.generator import SynthConfig, _World
    from registry.synth.names import name_bank

    world = _World(5, ("SY", "EG"), SynthConfig(), name_bank())
    twins = 0
    for _ in range(3000):
        children = world.family()
        assert len({c.given for c in children}) == len(children)
        assert len({c.person_id for c in children}) == len(children)
        assert 1 <= len(children) <= 6
        assert len({(c.family.father, c.family.mother_given, c.family.family_name) for c in children}) == 1
        for c in children:
            if c.twin_of:
                twins += 1
                other = next(x for x in children if x.person_id == c.twin_of)
                assert other.born == c.born and other.given != c.given
    assert twins > 0


def test_source_ref_unique_per_institution(result):
    seen = Counter((r.row["institution"], r.row["source_ref"]) for r in result.records)
    assert all(r.row["source_ref"] for r in result.records)
    assert max(seen.values()) == 1


def test_national_ids_consistent(result):
    eg = sy = 0
    for r in result.records:
        nid = r.row["national_id"]
        if not nid:
            continue
        nid = normalise_national_id(nid)
        if len(nid) == 14:
            eg += 1
            facts = egyptian_id_facts(nid)
            assert facts.date_of_birth.isoformat() == r.true_date_of_birth
            assert facts.sex == r.true_sex
            assert r.country == "EG"
        else:
            sy += 1
            assert len(nid) == 11 and r.country == "SY"
        assert check_national_id(nid, None) == []
    assert eg > 5 * sy > 0
    # One child, one ID: the same ID never appears for two persons.
    owners = defaultdict(set)
    for r in result.records:
        if r.row["national_id"]:
            owners[normalise_national_id(r.row["national_id"])].add(r.person_id)
    assert all(len(p) == 1 for p in owners.values())


def test_noise_kinds_present(result):
    tags = Counter(t for r in result.records for t in r.noise)
    for tag in ("no_grandfather", "no_mother", "shifted_chain", "full_name_only", "dob_swapped", "dob_year_off",
                "dob_estimated", "dob_year_only", "dob_year_month", "indic_digits_dob", "no_sex", "no_governorate"):
        assert tags[tag] > 0, tag
    assert any(t.startswith("typo_") for t in tags)


def test_birth_dates_in_range(result):
    for r in result.records:
        assert dt.date(2006, 1, 1) <= dt.date.fromisoformat(r.true_date_of_birth) <= dt.date(2025, 12, 31)


def test_streaming_matches_counts_and_writes_csv(tmp_path):
    rows = list(iter_records(1500, seed=2, shuffle_window=100))
    assert len(rows) == 1500
    path, truth = tmp_path / "rows.csv", tmp_path / "truth.csv"
    insts = tmp_path / "institutions.csv"
    assert write_csv(path, 800, seed=2, truth_path=truth, institutions_path=insts) == 800
    with open(insts, encoding="utf-8") as f:
        codes = {row["code"] for row in csv.DictReader(f)}
    with open(path, encoding="utf-8") as f:
        data = list(csv.DictReader(f))
    with open(truth, encoding="utf-8") as f:
        known = list(csv.DictReader(f))
    assert len(data) == len(known) == 800
    assert tuple(data[0]) == IMPORT_COLUMNS
    assert {row["institution"] for row in data} <= codes
    assert all((a["institution"], a["source_ref"]) == (b["institution"], b["source_ref"])
               for a, b in zip(data, known))


def test_xlsx_output(tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "rows.xlsx"
    assert write_csv(path, 50, seed=1, truth_path=tmp_path / "t.csv") == 50
    ws = load_workbook(path, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == IMPORT_COLUMNS and len(rows) == 51


def test_one_country_only():
    res = generate(300, seed=1, countries=("EG",))
    assert all(r.row["institution"].startswith("eg-") and r.country == "EG" for r in res.records)
    with pytest.raises(ValueError):
        generate(10, countries=("LB",))
