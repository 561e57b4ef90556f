"""Record linkage on keyed encodings: no plaintext in the index, cross-script duplicates found, twins kept
apart, a saved model scores the same after reloading, and batch and real-time scores agree."""

import itertools
import json
from collections import defaultdict

from sqlalchemy import select

from registry.identity import validate_identity
from registry.matching.dedupe import load_into_duckdb, predict_pairs
from registry.matching.index import from_entry
from registry.matching.lookup import find_matches
from registry.matching.model import MATCH_THRESHOLD, LinkageModel
from registry.services.dedupe import registry_clusters
from registry.store.models import CaseRecord
from registry.store.tables.matching import LinkageEntry


def _entries(reg):
    with reg.db.sessions() as s:
        return {e.record_id: from_entry(e) for e in s.scalars(select(LinkageEntry))}


def test_linkage_index_holds_no_plaintext_name_date_or_id(trained):
    reg, valid, _ = trained
    with reg.db.sessions() as s:
        # Every column but the two random ids (a record id "Raed3..." would be a false alarm).
        stored = " ".join(str(v) for e in s.scalars(select(LinkageEntry)).all()[:2000]
                          for k, v in from_entry(e).items() if k not in ("record_id", "child_id"))
    checked = 0
    for identity, _ in valid[:300]:
        dob = identity.date_of_birth
        full_date = dob.isoformat().lstrip("~") if dob and dob.day else None  # birth year alone may stay clear
        for value in (identity.given_name, identity.family_name, identity.father_name, identity.national_id,
                      full_date, full_date.replace("-", "") if full_date else None):
            # Names spelled only with hex letters (Deeb, Abed) could appear inside any token by chance.
            if value and len(value) >= 4 and not all(c in "0123456789abcdef-" for c in value.lower()):
                assert value not in stored and value.lower() not in stored
                checked += 1
    assert checked > 500


def test_cross_script_duplicates_are_found(trained):
    """Found: merged automatically (the same cluster) or put before a person (an open pair in the queue)."""
    from sqlalchemy import select

    from registry.store.models import CaseRecord
    from registry.store.tables.matching import SuspectedDuplicate

    reg, valid, _ = trained
    clusters = registry_clusters(reg)
    with reg.db.sessions() as s:
        record = {(i, ref): r for i, ref, r in s.execute(
            select(CaseRecord.institution, CaseRecord.source_ref, CaseRecord.record_id))}
        queued = {frozenset(p) for p in s.execute(select(SuspectedDuplicate.record_a, SuspectedDuplicate.record_b)
                                                  .where(SuspectedDuplicate.status == "open"))}
    by_person = defaultdict(list)
    for identity, rec in valid:
        by_person[rec.person_id].append((identity, rec))
    cross = merged = surfaced = 0
    for members in by_person.values():
        for (a, _), (b, _) in itertools.combinations(members, 2):
            scripts = {_script(a), _script(b)}
            if scripts == {"arabic", "latin"}:
                ka, kb = (a.institution, a.source_ref), (b.institution, b.source_ref)
                cross += 1
                together = clusters[ka] == clusters[kb]
                merged += together
                surfaced += together or frozenset((record[ka], record[kb])) in queued
    assert cross > 100
    assert merged / cross > 0.6, f"only {merged}/{cross} cross-script duplicate pairs merged"
    assert surfaced / cross > 0.8, f"only {surfaced}/{cross} cross-script duplicate pairs merged or queued"


def _script(identity):
    from registry.names.text import script_of

    return script_of(" ".join(v for v in identity.names().values()))


def test_twins_stay_apart(trained):
    reg, valid, _ = trained
    clusters = registry_clusters(reg)
    twins = merged = 0
    by_family = defaultdict(list)
    for identity, rec in valid:
        by_family[rec.family_id].append((identity, rec))
    for members in by_family.values():
        for (a, ra), (b, rb) in itertools.combinations(members, 2):
            if ra.person_id != rb.person_id and ra.twin_of and rb.twin_of:
                twins += 1
                merged += clusters[(a.institution, a.source_ref)] == clusters[(b.institution, b.source_ref)]
    assert twins > 20
    assert merged / twins < 0.05, f"{merged} of {twins} twin pairs were merged"


def test_hand_made_twins_are_not_a_match_but_a_cross_script_duplicate_is(trained):
    reg, _, _ = trained
    base = dict(father_name="خالد", grandfather_name="محمود", family_name="الشامي", mother_given_name="هدى",
                sex="M", date_of_birth="2016-05-04", governorate="SY-DI")
    hassan = validate_identity({**base, "source_ref": "T-1", "given_name": "حسن"}, "ngo-test-1")
    hussein = validate_identity({**base, "source_ref": "T-2", "given_name": "حسين"}, "ngo-test-1")
    latin = validate_identity({"source_ref": "T-3", "given_name": "Hassan", "father_name": "Khaled",
                               "grandfather_name": "Mahmoud", "family_name": "Al-Shami", "mother_given_name": "Huda",
                               "sex": "M", "date_of_birth": "2016-05-04", "governorate": "SY-RD"}, "ngo-test-2")
    model = reg.model()
    enc = reg.index.encoder

    def row(identity):
        return enc.encode(identity.source_ref, "c", identity).as_dict()

    twins = model.score(row(hassan), row(hussein))
    same = model.score(row(hassan), row(latin))
    assert twins.probability < 0.5 and twins.capped_by == "possible twins"
    assert same.probability >= MATCH_THRESHOLD


def test_a_query_in_memory_and_its_stored_row_are_the_same_row(trained):
    from registry.matching.index import to_entry

    reg, valid, _ = trained
    for identity, _ in valid[:200]:
        encoded = reg.index.encoder.encode("r", "c", identity)
        stored = from_entry({k: v for k, v in to_entry(encoded).items() if k != "encoding_version"})
        assert stored == encoded.as_dict()


def test_saved_model_reloads_and_scores_the_same(trained, tmp_path):
    reg, _, _ = trained
    model = reg.model()
    path = tmp_path / "model.json"
    model.save(path)
    again = LinkageModel.load(path)
    assert json.loads(path.read_text()) == json.loads(json.dumps(model.data))
    entries = list(_entries(reg).values())
    for a, b in zip(entries[:200], entries[1:201]):
        assert again.score(a, b) == model.score(a, b)


def test_batch_and_real_time_give_the_same_probabilities(trained, tmp_path):
    reg, _, _ = trained
    import duckdb

    model = reg.model()
    con = duckdb.connect(str(tmp_path / "check.duckdb"))
    with reg.db.sessions() as s:
        load_into_duckdb(con, reg.index.all_entries(s))
    _, predictions = predict_pairs(con, model, threshold=0.0)
    pairs = predictions.as_duckdbpyrelation().select("record_id_l, record_id_r, match_probability").fetchall()
    con.close()
    entries = _entries(reg)
    assert len(pairs) > 1000
    for left, right, splink_probability in pairs[:3000]:
        score = model.score(entries[left], entries[right])
        if score.capped_by is None:
            assert abs(score.probability - splink_probability) < 1e-9


def test_a_block_scored_at_once_scores_each_candidate_as_one_pair_would(trained):
    """The lookup scores a candidate block with score_block: the same scores, bit for bit, as score."""
    reg, valid, _ = trained
    model = reg.model()
    scored = 0
    for identity, _ in valid[:300]:  # Arabic and Latin records of the generated mix
        query = reg.index.encoder.encode("q", "", identity).as_dict()
        with reg.db.sessions() as s:
            block = reg.index.candidates(s, reg.index.encoder.encode("q", "", identity))
        together = dict(model.score_block(query, block))
        alone = {i: model.score(query, cand) for i, cand in enumerate(block)}
        assert together == alone
        above = dict(model.score_block(query, block, threshold=0.5))
        assert above == {i: sc for i, sc in alone.items() if sc.probability >= 0.5}
        scored += len(block)
    assert scored > 500  # candidates, over the queries


def test_real_time_lookup_finds_a_registered_child_from_another_script(trained):
    reg, valid, _ = trained
    with reg.db.sessions() as s:
        ids = {(i, ref): (rid, cid) for i, ref, rid, cid in s.execute(
            select(CaseRecord.institution, CaseRecord.source_ref, CaseRecord.record_id, CaseRecord.child_id))}
    by_person = defaultdict(list)
    for identity, rec in valid:
        by_person[rec.person_id].append(identity)
    tried = hits = 0
    for members in by_person.values():
        for a, b in itertools.combinations(members, 2):
            if {_script(a), _script(b)} != {"arabic", "latin"} or tried >= 150:
                continue
            own_record, _ = ids[(a.institution, a.source_ref)]
            _, other_child = ids[(b.institution, b.source_ref)]
            with reg.db.sessions() as s:
                matches = find_matches(s, reg.index, reg.model(), a, excluded_children=set(),
                                       exclude_records={own_record})
            tried += 1
            hits += any(m.child_id == other_child for m in matches)
    assert tried >= 100
    assert hits / tried > 0.85, f"{hits}/{tried}"


def test_explanation_names_each_field_in_words_and_the_twin_rule(trained):
    from registry.matching.explain import explain_rows

    reg, _, _ = trained
    base = dict(father_name="Khaled", grandfather_name="Mahmoud", family_name="Al-Shami", sex="M",
                date_of_birth="2016-05-04", governorate="SY-DI")
    enc = reg.index.encoder

    def row(identity):
        return enc.encode(identity.source_ref, "c", identity).as_dict()

    omar = row(validate_identity({**base, "source_ref": "E-1", "given_name": "Omar"}, "ngo-test-1"))
    amr = row(validate_identity({**base, "source_ref": "E-2", "given_name": "عمرو"}, "ngo-test-1"))
    why = explain_rows(reg.model(), omar, amr)
    assert why.rule and "twins" in why.rule
    words = {f.field: f.words for f in why.fields}
    assert words["given"].startswith("given name: different known names") and words["given"].endswith("(against)")
    assert words["dob"].startswith("date of birth: same date") and "(for)" in words["dob"]


def test_a_mistyped_year_digit_keeps_the_day_and_month_as_evidence(trained):
    """2013 against 2016 on the same day and month: its own level, for the pair (a clerk's typo), not the
    "different" date that counted about ten bits against it, across scripts too."""
    from registry.matching.explain import explain_rows

    reg, _, _ = trained
    model, enc = reg.model(), reg.index.encoder

    def row(ref, **fields):
        return enc.encode(ref, "c", validate_identity({"source_ref": ref, **fields}, "ngo-test-1")).as_dict()

    arabic = row("Y-1", given_name="يوسف", father_name="أحمد", family_name="الحلبي", date_of_birth="2013-07-21")
    for other, date in (("Y-2", "2016-07-21"), ("Y-3", "2011-09-02")):
        latin = row(other, given_name="Youssef", father_name="Ahmad", family_name="Al-Halabi", date_of_birth=date)
        dob = {f.comparison: f for f in model.score(arabic, latin).fields}["dob"]
        if date.endswith("07-21"):
            assert dob.label == "same day and month, another year" and dob.weight > 0
            words = {f.field: f.words for f in explain_rows(model, arabic, latin).fields}
            assert words["dob"].startswith("date of birth: same day and month, another year")
            typo = model.score(arabic, latin).probability
        else:
            assert dob.label == "different" and dob.weight < -5
            assert model.score(arabic, latin).probability < typo


def test_a_typo_in_one_part_of_the_family_is_only_similar_not_different(trained):
    """One letter changed in the father's, the family or the mother's name, in either script and across scripts,
    is its own level ("only similar"), which weighs more than a part that differs; two names the dictionary
    knows one letter apart (كريم and Kamal) still differ."""
    reg, _, _ = trained
    model, enc = reg.model(), reg.index.encoder
    arabic = dict(given_name="يوسف", father_name="أحمد", grandfather_name="محمود", family_name="الحلبي",
                  mother_given_name="فاطمة", date_of_birth="2013-07-21")
    latin = dict(given_name="Youssef", father_name="Ahmad", grandfather_name="Mahmoud", family_name="Al-Halabi",
                 mother_given_name="Fatima", date_of_birth="2013-07-21")

    def family(left, right):
        a, b = (enc.encode(ref, "c", validate_identity({"source_ref": ref, **fields}, "ngo-test-1")).as_dict()
                for ref, fields in (("T-1", left), ("T-2", right)))
        scored = model.score(a, b)
        return {f.comparison: f for f in scored.fields}["family"], scored.probability

    differs, p_differs = family(arabic, {**latin, "father_name": "Zorbak"})
    assert differs.label == "most parts agree, one differs"
    for left, typo in ((arabic, {**latin, "father_name": "Ahmaf"}), (arabic, {**latin, "family_name": "Al-Halafi"}),
                       (arabic, {**latin, "mother_given_name": "Fatina"}),
                       (arabic, {**arabic, "family_name": "الحلني"}), (arabic, {**arabic, "father_name": "أحمز"}),
                       (latin, {**latin, "father_name": "Ahmaf"})):
        similar, p_similar = family(left, typo)
        assert similar.label == "most parts agree, one only similar", typo
        assert similar.weight > differs.weight and p_similar > p_differs, typo
    for father, other in (("كريم", "Kamal"), ("Karim", "Kamal"), ("كريم", "كمال")):
        known, _ = family({**arabic, "father_name": father}, {**arabic, "father_name": other})
        assert known.label == "most parts agree, one differs", (father, other)


def test_the_twin_rule_does_not_hold_apart_records_with_one_national_id(trained):
    """Twins share the family and the birthday, never a national ID: with the same ID a given name that merely
    looks different (a typo) is left to the model, and two names the dictionary knows as different go to a
    reviewer (0.9) instead of out of the queue (0.2). Without an ID the rule is as before."""
    from registry.matching.comparisons import REVIEW_CAP, TWIN_CAP

    reg, _, _ = trained
    model, enc = reg.model(), reg.index.encoder
    base = dict(father_name="خالد", grandfather_name="محمود", family_name="الشامي", mother_given_name="هدى",
                sex="M", date_of_birth="2016-05-04", governorate="SY-DI")

    def row(ref, **fields):
        return enc.encode(ref, "c", validate_identity({**base, "source_ref": ref, **fields}, "ngo-test-1")).as_dict()

    nid = {"national_id": "01234567891"}
    hassan, hussein = row("N-1", given_name="حسن", **nid), row("N-2", given_name="حسين", **nid)
    assert model.score(hassan, hussein).capped_by == "possible twins"
    assert model.score(hassan, hussein).probability == REVIEW_CAP
    without = model.score(row("N-3", given_name="حسن"), row("N-4", given_name="حسين"))
    assert without.probability == TWIN_CAP
    # A typo that no dictionary knows, Latin against Arabic: capped without the ID, left to the model with it.
    typo_latin = dict(given_name="Qxsan", father_name="Khaled", grandfather_name="Mahmoud", family_name="Al-Shami",
                      mother_given_name="Huda")
    plain = model.score(row("N-5", given_name="حسن"), row("N-6", **typo_latin))
    same_id = model.score(hassan, row("N-7", **typo_latin, **nid))
    assert {f.comparison: f.label for f in same_id.fields}["given"] == "different"
    assert plain.capped_by == "possible twins" and plain.probability <= REVIEW_CAP
    assert same_id.capped_by is None and same_id.probability >= MATCH_THRESHOLD


def test_a_batch_pair_the_next_run_does_not_find_leaves_the_queue(trained):
    from registry.services.dedupe import run_dedupe
    from registry.store.tables.matching import SuspectedDuplicate

    reg, _, _ = trained
    with reg.db.unit_of_work() as s:
        a, b = s.scalars(select(CaseRecord.record_id).order_by(CaseRecord.record_id).limit(2)).all()
        s.add(SuspectedDuplicate(record_a=a, record_b=b, probability=0.7, match_weight=1.0, source="batch",
                                 digest_a="x", digest_b="y", run_id="run-earlier"))
    run_dedupe(reg)
    with reg.db.sessions() as s:
        pair = s.scalars(select(SuspectedDuplicate).where(SuspectedDuplicate.record_a == a,
                                                          SuspectedDuplicate.record_b == b)).one()
        still_open = s.scalars(select(SuspectedDuplicate).where(SuspectedDuplicate.status == "open")).all()
    assert pair.status in ("stale", "open") and (pair.status == "stale") == (pair.run_id == "run-earlier")
    assert still_open and all(p.run_id != "run-earlier" for p in still_open)


def test_a_batch_run_on_an_empty_registry_says_so_instead_of_failing(tmp_path, registry_factory):
    from registry.services.dedupe import run_dedupe

    reg = registry_factory(tmp_path / "empty", f"sqlite:///{tmp_path / 'empty.db'}")
    result = run_dedupe(reg)
    assert (result.records, result.pairs_scored, result.clusters, result.suspected) == (0, 0, 0, 0)
    reg.close()


def test_the_same_given_name_weighs_more_inside_a_family_that_agrees(trained):
    """Brothers and sisters do not share a given name: inside a family that agrees, a non-matching pair shares
    the given name only when it comes from another family of the same names (share q), so the same name
    gains log2(1/q) there. q is measured on the registry itself (mothers' names), more for four parts."""
    reg, _, _ = trained
    model = reg.model()
    params = model.data["given_in_family"]
    assert params["pairs"] >= 30
    assert 0 < params["other_families_share_4"] < params["other_families_share_3"] < 0.5
    ci = next(i for i, c in enumerate(model.comparisons) if c.name == "given_in_family")
    four, three, other = (model.level_weight(ci, li) for li in range(3))
    assert four > three > 1.0 and other == 0.0

    arabic = validate_identity({"source_ref": "F-1", "given_name": "يوسف", "father_name": "خالد",
                                "grandfather_name": "محمود", "family_name": "الشامي", "mother_given_name": "هدى",
                                "sex": "M", "date_of_birth": "2016", "governorate": "SY-DI"}, "ngo-test-1")
    latin = validate_identity({"source_ref": "F-2", "given_name": "Youssef", "father_name": "Khaled",
                               "grandfather_name": "Mahmoud", "family_name": "Al-Shami", "mother_given_name": "Huda",
                               "sex": "M", "date_of_birth": "2016", "governorate": "SY-RD"}, "ngo-test-2")
    no_mother = validate_identity({"source_ref": "F-3", "given_name": "Youssef", "father_name": "Khaled",
                                   "grandfather_name": "Mahmoud", "family_name": "Al-Shami", "sex": "M",
                                   "date_of_birth": "2016", "governorate": "SY-RD"}, "ngo-test-2")
    brother = validate_identity({"source_ref": "F-4", "given_name": "Omar", "father_name": "Khaled",
                                 "grandfather_name": "Mahmoud", "family_name": "Al-Shami", "mother_given_name": "Huda",
                                 "sex": "M", "date_of_birth": "2014", "governorate": "SY-RD"}, "ngo-test-2")
    enc = reg.index.encoder

    def row(identity):
        return enc.encode(identity.source_ref, "c", identity).as_dict()

    def field(score, name):
        return next(f for f in score.fields if f.comparison == name)

    whole, three_parts = model.score(row(arabic), row(latin)), model.score(row(arabic), row(no_mother))
    assert field(whole, "family").label == "four or more parts agree, none differ"
    assert field(whole, "given_in_family").label == "same name, the family agrees in four parts or more"
    assert field(three_parts, "given_in_family").label == "same name, the family agrees in three parts"
    assert whole.probability > three_parts.probability
    # A brother: the family agrees, the given name does not: no correction, and not the same child.
    sibling = model.score(row(arabic), row(brother))
    assert field(sibling, "given_in_family").label == "no correction" and sibling.probability < 0.5


def test_a_rare_father_family_or_mother_name_weighs_more_than_a_common_one(trained):
    """The father's, the family and the mother's name carry Splink's term-frequency adjustment, log2(s / f): f
    the name's share of the registry, s the chance two records share a name at all. Arabic and Latin spellings of one
    name share the cross-script skeleton the frequencies are counted on."""
    import math

    reg, _, _ = trained
    model = reg.model()
    arabic = validate_identity({"source_ref": "T-1", "given_name": "يوسف", "father_name": "خالد",
                                "family_name": "الشامي", "mother_given_name": "هدى", "sex": "M",
                                "date_of_birth": "2016-03-04", "governorate": "SY-DI"}, "ngo-test-1")
    latin = validate_identity({"source_ref": "T-2", "given_name": "Youssef", "father_name": "Khaled",
                               "family_name": "Al-Shami", "mother_given_name": "Huda", "sex": "M",
                               "date_of_birth": "2016-03-04", "governorate": "SY-DI"}, "ngo-test-2")
    enc = reg.index.encoder
    left, right = (enc.encode(i.source_ref, "c", i).as_dict() for i in (arabic, latin))
    columns = {"father_frequency": "father_skel", "family_frequency": "family_skel",
               "mother_frequency": "mother_skel"}
    for col in columns.values():
        assert left[col] is not None and left[col] == right[col]

    def scored(share: float):
        data = json.loads(json.dumps(model.data))
        for col in columns.values():
            data["tf_tables"][col][left[col]] = share
        score = LinkageModel(data).score(left, right)
        return score, {f.comparison: f for f in score.fields}

    shared = {col: sum(f * f for f in model.tf[col].values()) for col in columns.values()}
    rare, rare_fields = scored(1e-5)
    common, common_fields = scored(0.2)
    for name, col in columns.items():
        assert rare_fields[name].label == "the same name"
        assert math.isclose(rare_fields[name].weight, math.log2(shared[col] / 1e-5))
        assert math.isclose(common_fields[name].weight, math.log2(shared[col] / 0.2))
        assert rare_fields[name].weight > 0 > common_fields[name].weight
    assert rare.probability > common.probability
    # A name on one side only: nothing to correct (not explained to a reviewer either).
    no_family = dict(right, family_skel=None)
    assert {f.comparison: f for f in model.score(left, no_family).fields}["family_frequency"].weight == 0.0


def test_a_latin_given_name_is_every_name_it_is_a_usual_spelling_of(trained):
    """Hala is written for هالة mostly (73 %) and for حلا 13 % of the time, yet it is how حلا is mostly written:
    against حلا it is the same name, not two different known names (the given name's strongest evidence against,
    and the twin rule's trigger). Twins' names in every attested spelling stay different known names."""
    from registry.names.dictionary import active_dictionary
    from registry.names.units import split_units

    reg, _, _ = trained
    model, enc = reg.model(), reg.index.encoder
    base = dict(father_name="Samir", family_name="Haddad", date_of_birth="2015-03-09", sex="F")

    def given(name_a, name_b):
        a, b = (enc.encode(ref, "c", validate_identity({**base, "source_ref": ref, "given_name": n}, "ngo-test-1"))
                .as_dict() for ref, n in (("H-1", name_a), ("H-2", name_b)))
        return {f.comparison: f.label for f in model.score(a, b).fields}["given"]

    for latin, arabic in (("Hala", "حلا"), ("Hala", "هالة"), ("Dana", "دانة"), ("Alaa", "آلاء"), ("Anwar", "أنوار")):
        assert given(latin, arabic) == "same name", (latin, arabic)
    for latin, arabic in (("Hala", "هدى"), ("Lina", "لين"), ("Omar", "عمرو"), ("Hassan", "حسين"), ("Nour", "نورا")):
        assert given(latin, arabic) == "different known names", (latin, arabic)
    # Every attested Latin spelling of one twin name against the other name in Arabic script.
    d = active_dictionary()
    twins = (("حسن", "حسين"), ("محمد", "محمود"), ("عمر", "عمرو"), ("عمر", "عمار"), ("لين", "لينا"), ("نور", "نورا"),
             ("ريم", "ريما"), ("سامي", "سامر"))
    for x, y in twins + tuple((y, x) for x, y in twins):
        spellings = [k for k, cands in d.spellings.items() if any(i == x for i, _ in cands)]
        assert spellings, x
        for spelling in spellings:
            if len(split_units(spelling)) == 1 and y not in [i for i, _ in d.candidates(spelling)]:
                assert given(spelling, y) != "same name", (spelling, x, y)
