"""Blocking and decisions: batch and real time find the same candidates; the keys that survive a year typo, a
swapped day and month, a missing or shifted chain part, across scripts; calibration measured on generated
truth; the three decision bands."""

import duckdb
import pytest
from sqlalchemy import select

from registry.identity import validate_identity
from registry.matching.blocking import RULES, blocked
from registry.matching.dedupe import load_into_duckdb
from registry.matching.encoding import LinkageRow
from registry.matching.evaluate import Truth, calibration, run_pairs
from registry.matching.index import from_entry
from registry.matching.model import BLOCKING_RULES, POSSIBLE_THRESHOLD, SAME_THRESHOLD, decision_band
from registry.store.tables.matching import LinkageEntry

ROW_FIELDS = set(LinkageRow.__dataclass_fields__)


def _row(entry: dict) -> LinkageRow:
    return LinkageRow(**{k: v for k, v in entry.items() if k in ROW_FIELDS})


def _batch_pairs(reg) -> set[frozenset[str]]:
    con = duckdb.connect()
    with reg.db.sessions() as s:
        load_into_duckdb(con, reg.index.all_entries(s))
    where = " OR ".join(f"({r})" for r in BLOCKING_RULES)
    rows = con.execute(f"SELECT l.record_id, r.record_id FROM linkage l JOIN linkage r "
                       f"ON l.record_id < r.record_id AND ({where})").fetchall()
    return {frozenset(p) for p in rows}


def test_the_batchs_blocked_pairs_are_splinks_own_each_with_splinks_match_key(trained):
    """predict_pairs hands Splink the blocked pairs it computes itself (every rule's join, one GROUP BY): they must
    be exactly those Splink's blocking makes (each rule joined with NOT every earlier rule), match key included."""
    from splink import DuckDBAPI, Linker

    from registry.matching.dedupe import blocked_pairs_sql
    from registry.matching.model import SPLINK_LOG_LEVEL

    reg, _, _ = trained
    con = duckdb.connect()
    with reg.db.sessions() as s:
        load_into_duckdb(con, reg.index.all_entries(s))
    settings = reg.model().splink_settings_for_predict()
    linker = Linker(DuckDBAPI(con).register("linkage"), settings, log_level=SPLINK_LOG_LEVEL)
    splinks = set(linker.inference.compute_blocked_pairs_for_predict().as_duckdbpyrelation()
                  .select("match_key, join_key_l, join_key_r").fetchall())
    ours = con.execute(blocked_pairs_sql(settings)).fetchall()
    assert len(ours) == len(set(ours)) == len(splinks) > 1000
    assert set(ours) == splinks
    assert len({key for key, _, _ in ours}) > 10  # many rules find pairs first, not one


def test_batch_blocking_and_real_time_candidates_are_the_same_pairs(trained):
    reg, _, _ = trained
    batch = _batch_pairs(reg)
    real_time: set[frozenset[str]] = set()
    with reg.db.sessions() as s:
        entries = [from_entry(e) for e in s.scalars(select(LinkageEntry))]
        for entry in entries:
            for cand in reg.index.candidates(s, _row(entry), limit=100_000):
                if cand["record_id"] != entry["record_id"]:
                    real_time.add(frozenset((entry["record_id"], cand["record_id"])))
    assert len(batch) > 1000
    assert batch == real_time
    # The Python form of the rules agrees too (on every blocked pair and on as many unblocked ones).
    by_id = {e["record_id"]: e for e in entries}
    for pair in list(batch)[:3000]:
        a, b = sorted(pair)
        assert blocked(by_id[a], by_id[b])
    ids = sorted(by_id)
    unblocked = [(a, b) for a, b in zip(ids, ids[7:]) if frozenset((a, b)) not in batch][:3000]
    assert unblocked and not any(blocked(by_id[a], by_id[b]) for a, b in unblocked)


def _identity(**fields):
    return validate_identity({"institution": "test-inst", "source_ref": "x", **fields})


HARD_PAIRS = {
    # Latin year typo (2015 for 2016) and no father on one side, other script.
    "year typo, missing father, cross-script": (
        dict(given_name="محمد", father_name="عبد الله", family_name="الحسن", date_of_birth="2016-03-14", sex="M"),
        dict(given_name="Mohamed", family_name="El-Hassan", date_of_birth="2015-03-14", sex="M")),
    # Day and month swapped, the chain written only as a family name on one side, different family names.
    "swapped day and month, chain missing": (
        dict(given_name="فاطمة", father_name="خالد", family_name="الخطيب", date_of_birth="2014-04-03", sex="F"),
        dict(given_name="Fatima", family_name="Khatib Zada", date_of_birth="2014-03-04", sex="F")),
    # The father's name written as the family name (shifted chain), date only on the other side's year.
    "shifted chain": (
        dict(given_name="Ahmad", father_name="Khaled", family_name="Haddad", date_of_birth="2013-06-01", sex="M"),
        dict(given_name="أحمد", family_name="خالد", date_of_birth="2013", sex="M")),
    # No date at all on one side.
    "date missing": (
        dict(given_name="Youssef", father_name="Omar", family_name="Al-Masri", date_of_birth="2012-01-09"),
        dict(given_name="يوسف", family_name="المصري")),
    # A thin record: given name and father only, no date and no family.
    "given and father only": (
        dict(given_name="محمد", father_name="خالد", family_name="الحسن", date_of_birth="2016-03-14", sex="M"),
        dict(given_name="Mohamed", father_name="Khaled", sex="M")),
    # A day typo and the family written differently: given + father + year and month.
    "day typo, family differs": (
        dict(given_name="فاطمة", father_name="خالد", family_name="الخطيب", date_of_birth="2014-04-03", sex="F"),
        dict(given_name="Fatima", father_name="Khaled", family_name="Zada", date_of_birth="2014-04-13", sex="F")),
    # The family written another way and no date on one side, the same mother (issue 14).
    "family differs, date missing, same mother": (
        dict(given_name="محمد", father_name="خالد", family_name="الحسن", date_of_birth="2016-03-14",
             mother_given_name="فاطمة", sex="M"),
        dict(given_name="Mohamed", father_name="Khaled", family_name="Zada", mother_given_name="Fatma", sex="M")),
    # A shifted chain with the same full date and the given name written with another skeleton.
    "shifted chain, same date, given name another way": (
        dict(given_name="Zeinab", father_name="Khaled", family_name="Haddad", date_of_birth="2013-06-01", sex="F"),
        dict(given_name="زينة", family_name="خالد", date_of_birth="2013-06-01", sex="F")),
    # An estimated year a year out and the family written another way: given + father + governorate.
    "year apart on a year-only date, family differs": (
        dict(given_name="فاطمة", father_name="خالد", family_name="الخطيب", date_of_birth="2014-04-03",
             governorate="SY-DI", sex="F"),
        dict(given_name="Fatima", father_name="Khaled", family_name="Zada", date_of_birth="2015",
             governorate="SY-DI", sex="F")),
    # The given name spelled with another skeleton and a year typo: father, family, day and month agree.
    "given name another way, year typo": (
        dict(given_name="Zeinab", father_name="Ahmad", family_name="Haddad", date_of_birth="2013-06-21", sex="F"),
        dict(given_name="زينة", father_name="أحمد", family_name="الحداد", date_of_birth="2012-06-21", sex="F")),
}


def test_given_and_father_in_one_year_leave_full_records_to_the_rules_that_compare_them(trained):
    """Given + father + year blocks a pair only when one side lacks the day and month or the family, or the
    month agrees: two full records with another month and another family are different children here."""
    reg, _, _ = trained
    enc = reg.index.encoder
    base = dict(given_name="محمد", father_name="خالد", family_name="الحسن", date_of_birth="2016-03-14", sex="M")
    other = dict(given_name="Mohamed", father_name="Khaled", family_name="Zada", date_of_birth="2016-09-02", sex="M")
    a = enc.encode("a", "a", _identity(**base)).as_dict()
    assert not blocked(a, enc.encode("b", "b", _identity(**other)).as_dict())
    assert blocked(a, enc.encode("b", "b", _identity(**{**other, "date_of_birth": "2016"})).as_dict())
    assert blocked(a, enc.encode("b", "b", _identity(**{**other, "family_name": None})).as_dict())
    assert blocked(a, enc.encode("b", "b", _identity(**{**other, "date_of_birth": "2016-03-30"})).as_dict())


@pytest.mark.parametrize("case", sorted(HARD_PAIRS))
def test_hard_duplicates_share_a_block_in_batch_and_real_time(trained, case):
    reg, _, _ = trained
    a, b = HARD_PAIRS[case]
    left = reg.index.encoder.encode("rec-a", "child-a", _identity(**a))
    right = reg.index.encoder.encode("rec-b", "child-b", _identity(**b))
    assert blocked(left.as_dict(), right.as_dict())
    # Real time: the stored record is found from the other.
    with reg.db.unit_of_work() as s:
        reg.index.update(s, "rec-a", "child-a", _identity(**a))
        s.flush()
        found = {c["record_id"] for c in reg.index.candidates(s, right)}
        reg.index.remove(s, "rec-a")
    assert "rec-a" in found


def test_unrelated_children_share_no_block(trained):
    reg, _, _ = trained
    a = reg.index.encoder.encode("a", "a", _identity(given_name="محمد", family_name="الحسن",
                                                     date_of_birth="2016-03-14"))
    b = reg.index.encoder.encode("b", "b", _identity(given_name="Omar", family_name="Haddad",
                                                     date_of_birth="2016-03-14"))
    assert not blocked(a.as_dict(), b.as_dict())


def test_every_rule_is_a_rule_of_the_batch():
    sql = set(BLOCKING_RULES)
    for rule in RULES:
        assert rule.sql_variants() and set(rule.sql_variants()) <= sql
        if not rule.symmetric:
            assert set(rule.mirrored.sql_variants()) <= sql
    # No OR across the sides in what Splink joins on (it would join whole blocks before filtering).
    assert not any(" OR " in r for r in sql)


def test_a_lookups_condition_written_once_per_shape_is_each_rules_own_condition(trained):
    """`conditions` keeps one SQL text per set of columns a query has; for registered rows with columns taken
    away at random it says exactly what asking every rule (and mirror) in turn says, parameters included."""
    import random

    from registry.matching.blocking import conditions, oriented

    reg, _, _ = trained
    with reg.db.sessions() as s:
        entries = [from_entry(e) for e in s.scalars(select(LinkageEntry).limit(300))]
    rng = random.Random(7)
    for entry in entries:
        query = {k: (None if rng.random() < 0.3 else v) for k, v in _row(entry).as_dict().items()}
        terms, params = [], {}
        for rule in oriented():
            cond = rule.condition(query)
            if cond is not None:
                terms.append(cond[0])
                params.update(cond[1])
        assert conditions(query) == (" OR ".join(terms), params)


# ---- calibration ------------------------------------------------------------------------------------------
def test_calibration_table_and_error_by_hand():
    truth = Truth(person={("i", "a"): "P1", ("i", "b"): "P1", ("i", "c"): "P2", ("i", "d"): "P3"},
                  family={}, twin={}, script={})
    pairs = [(("i", "a"), ("i", "b"), 0.55), (("i", "a"), ("i", "c"), 0.58),  # band 0.5-0.6: said .565, true .5
             (("i", "c"), ("i", "d"), 0.3)]  # below the bands: not counted
    c = calibration(pairs, truth)
    band = c.bands[0]
    assert (band.pairs, round(band.mean_probability, 3), band.true_rate) == (2, 0.565, 0.5)
    assert c.pairs == 2 and c.true_pairs_scored == 1 and c.true_pairs_unscored == 0
    assert c.ece == pytest.approx(0.065)
    # Perfectly calibrated in a band: no error.
    assert calibration([(("i", "a"), ("i", "b"), 1.0)], truth).ece == 0.0


def test_precision_at_or_above_each_same_child_threshold_by_hand():
    truth = Truth(person={("i", "a"): "P1", ("i", "b"): "P1", ("i", "c"): "P2", ("i", "d"): "P2", ("i", "e"): "P3"},
                  family={}, twin={}, script={})
    pairs = [(("i", "a"), ("i", "b"), 0.9995), (("i", "c"), ("i", "d"), 0.996),  # the same child
             (("i", "a"), ("i", "e"), 0.998)]  # two children: counted from 0.998 down, not at 0.999
    at = {a.threshold: a for a in calibration(pairs, truth).at_or_above}
    assert (at[0.999].pairs, at[0.999].precision, at[0.999].true_pairs) == (1, 1.0, 1)
    assert (at[0.998].pairs, at[0.998].precision, at[0.998].true_pairs) == (2, 0.5, 1)
    assert (at[0.995].pairs, round(at[0.995].precision, 3), at[0.995].true_pairs) == (3, 0.667, 2)


def test_scored_pairs_are_calibrated_on_a_small_generated_registry(trained):
    reg, valid, _ = trained
    truth = Truth(person={(i.institution, i.source_ref): r.person_id for i, r in valid}, family={}, twin={},
                  script={})
    with reg.db.sessions() as s:
        pairs = run_pairs(s)
    c = calibration(pairs, truth)
    assert c.pairs > 500
    assert c.ece <= 0.05, c
    # The pairs the model is sure of are nearly all the same child; the possible band is a real mix.
    top = [b for b in c.bands if b.low >= 0.99]
    assert sum(b.pairs for b in top) > 300
    assert all(b.true_rate >= 0.97 for b in top if b.pairs >= 50)


# ---- decisions --------------------------------------------------------------------------------------------
def test_three_decision_bands():
    assert decision_band(1.0) == "same"
    assert decision_band(SAME_THRESHOLD) == "same"
    assert decision_band(SAME_THRESHOLD - 1e-9) == "possible"
    assert decision_band(POSSIBLE_THRESHOLD) == "possible"
    assert decision_band(POSSIBLE_THRESHOLD - 1e-9) == "different"
    assert decision_band(0.0) == "different"
    assert decision_band(0.95, same=0.9) == "same"
    with pytest.raises(ValueError):
        decision_band(1.5)
    assert POSSIBLE_THRESHOLD < SAME_THRESHOLD < 1.0


def test_training_sample_keeps_family_groups_whole_and_u_comes_from_the_whole_registry(trained, monkeypatch):
    from registry.matching import dedupe

    reg, _, _ = trained
    con = duckdb.connect()
    with reg.db.sessions() as s:
        n = load_into_duckdb(con, reg.index.all_entries(s))
    monkeypatch.setattr(dedupe, "TRAINING_SAMPLE", n // 3)
    model = dedupe.train_model(con)
    sampled, groups_cut = con.execute(
        "SELECT (SELECT count(*) FROM linkage_sample), count(*) FROM (SELECT family_skel, count(*) AS c "
        "FROM linkage_sample WHERE family_skel IS NOT NULL GROUP BY family_skel) s JOIN (SELECT family_skel, "
        "count(*) AS c FROM linkage GROUP BY family_skel) f USING (family_skel) WHERE s.c <> f.c").fetchall()[0]
    assert n // 6 < sampled < n // 2
    assert groups_cut == 0  # every family group in the sample is whole
    # Term frequencies are the whole registry's, not the sample's.
    whole = con.execute("SELECT count(DISTINCT given_key) FROM linkage").fetchall()[0][0]
    assert len(model.tf["given_key"]) == whole


def _u_of(model, comparison: str) -> dict[str, float]:
    spec = next(c for c in model.data["splink_settings"]["comparisons"] if c["output_column_name"] == comparison)
    return {lv["label_for_charts"]: lv["u_probability"] for lv in spec["comparison_levels"]
            if not lv.get("is_null_level")}


def _all_pairs_u(con, comparison) -> dict[str, float]:
    """u over every pair of the registry, counted exhaustively (the quantity the samples estimate)."""
    cases = " ".join(f"WHEN {lv.sql} THEN {i}" for i, lv in enumerate(comparison.levels) if lv.sql != "ELSE")
    sides = ", ".join(f"{side}.{c} AS {c}_{side}" for side in ("l", "r") for c in comparison.columns)
    rows = dict(con.execute(f"SELECT CASE {cases} ELSE {len(comparison.levels) - 1} END AS level, count(*) FROM "
                            f"(SELECT {sides} FROM linkage l JOIN linkage r ON l.record_id < r.record_id) "
                            "GROUP BY level").fetchall())
    counted = {i: c for i, c in rows.items() if not comparison.levels[i].is_null}
    total = sum(counted.values())
    return {comparison.levels[i].label: c / total for i, c in counted.items()}


def test_rare_levels_u_is_every_pairs_share_estimated_stratum_by_stratum(trained, monkeypatch):
    """The family's and the given name's u: pairs sharing the family name, the father's, the mother's (the
    given name's skeleton), and the rest, each weighted by the stratum's exact share of all pairs. With samples
    as large as the registry's pairs, the estimate is the exhaustive count; with samples a hundred times smaller
    the strongest levels stay within a factor of two (Splink's sample of as many pairs met the family's
    strongest level a handful of times at a million records)."""
    from registry.matching import model as model_module
    from registry.matching.comparisons import TRAINING_COMPARISONS

    reg, _, _ = trained
    con = duckdb.connect()
    with reg.db.sessions() as s:
        load_into_duckdb(con, reg.index.all_entries(s))
    ours = {c.name: c for c in TRAINING_COMPARISONS}
    exact = {name: _all_pairs_u(con, ours[name]) for name in ("family", "given")}
    monkeypatch.setattr(model_module, "STRATIFY_FROM", 0)  # stratified from 50,000 records: here too
    monkeypatch.setattr(model_module, "OUTSIDE_PAIRS", 1e7)  # every sample: every pair of 2,500 records
    whole = model_module.train(con, "linkage")
    for name, levels in exact.items():
        estimated = _u_of(whole, name)
        for label, u in levels.items():
            assert estimated[label] == pytest.approx(u, rel=1e-9), (name, label)

    monkeypatch.setattr(model_module, "STRATUM_PAIRS", 30_000)
    monkeypatch.setattr(model_module, "OUTSIDE_PAIRS", 30_000)
    sampled = model_module.train(con, "linkage", seed=7)
    for name, strongest in (("family", "four or more parts agree, none differ"), ("given", "same name")):
        u = _u_of(sampled, name)
        assert exact[name][strongest] > 0
        assert 0.5 < u[strongest] / exact[name][strongest] < 2.0, name
        assert sum(u.values()) == pytest.approx(1.0)


def test_siblings_with_a_missing_date_share_no_block(trained):
    """Father and family alone, with a date missing, would block every sibling of a family together (at a
    million records such pairs filled the review queue with siblings): no rule does."""
    reg, _, _ = trained
    enc = reg.index.encoder
    a = enc.encode("a", "a", _identity(given_name="Omar", father_name="Khaled", family_name="Haddad",
                                       date_of_birth="2012-05-01", sex="M")).as_dict()
    b = enc.encode("b", "b", _identity(given_name="يوسف", father_name="خالد", family_name="الحداد", sex="M")).as_dict()
    assert a["father_skel"] == b["father_skel"] and a["family_skel"] == b["family_skel"]
    assert not blocked(a, b)


def test_the_given_name_cases_are_spelled_with_another_skeleton(trained):
    """The premise of the "given name another way" case (Zeinab and its short form زينة): no rule keyed on the
    given name finds it."""
    reg, _, _ = trained
    a, b = HARD_PAIRS["given name another way, year typo"]
    left = reg.index.encoder.encode("a", "a", _identity(**a))
    right = reg.index.encoder.encode("b", "b", _identity(**b))
    assert left.given_skel != right.given_skel
    assert left.father_skel == right.father_skel and left.family_skel == right.family_skel


def test_the_index_reads_into_duckdb_exactly_as_stored(registry):
    """On SQLite and PostgreSQL: every column of every entry, read packed (`all_entries`) and unpacked into
    DuckDB, is what the index stores: tokens, lists, numbers, booleans and missing values, in both scripts."""
    from registry.matching.dedupe import stored_form
    from registry.matching.index import ENTRY_SCHEMA, NUMBER_LISTS
    from registry.services.registration import register_child

    rows = [
        {"given_name": "محمد", "father_name": "أحمد", "grandfather_name": "علي", "family_name": "الحلبي",
         "mother_given_name": "فاطمة", "mother_family_name": "الشامي", "sex": "M", "date_of_birth": "2015-03-04",
         "governorate": "SY-HL", "national_id": "01234567890"},
        {"given_name": "Mohammed", "family_name": "Al-Halabi", "sex": "M", "date_of_birth": "2015"},
        {"given_name": "Qzorbix", "father_name": "Zzqxw", "date_of_birth": "2019-07"},  # names the dictionary lacks
        {"full_name": "خديجة محمد", "sex": "F", "date_of_birth": "2019-03-13", "governorate": "EG-BH"},
    ]
    for n, row in enumerate(rows):
        register_child(registry, validate_identity({"institution": "sy-homs-ngo", "source_ref": f"RT-{n}", **row}))
    with registry.db.sessions() as s:
        stored = {e.record_id: from_entry(e) for e in s.scalars(select(LinkageEntry))}
        con = duckdb.connect()
        load_into_duckdb(con, registry.index.all_entries(s))
    cursor = con.execute(f"SELECT {', '.join(ENTRY_SCHEMA.names)} FROM linkage")
    read = [stored_form(dict(zip(ENTRY_SCHEMA.names, r))) for r in cursor.fetchall()]
    assert len(read) == len(stored) == len(rows)
    for row in read:
        entry = stored[row["record_id"]]
        for col in ENTRY_SCHEMA.names:
            want = entry[col]
            if col in NUMBER_LISTS:
                want = tuple(int(x) for x in want.split()) if isinstance(want, str) else want
                assert tuple(row[col]) == want, col
            else:
                assert row[col] == want and type(row[col]) is type(want), (col, row[col], want)
    assert {r["given_known"] for r in read} == {True, False}  # both booleans crossed, as did missing values
    assert any(r["nid"] is None for r in read) and any(r["nid"] is not None for r in read)
