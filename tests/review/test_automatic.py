"""A batch run's three decisions on a generated registry (Syrian and Egyptian children, Arabic and Latin script,
twins and siblings), with real Splink training: same child merged automatically (lineage, audit, undo that
sticks), possible queued by worth, different dropped; the setting that turns automatic merging off; the
must-stay-apart rules; lookups answering in the same bands. Tests run in file order on one registry."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from sqlalchemy import func, select

from registry.consent import disclosure, policy
from registry.matching.model import POSSIBLE_THRESHOLD, SAME_THRESHOLD, decision_band, known_probability
from registry.names.text import script_of
from registry.services import lookups
from registry.services.dedupe import export_clusters, run_dedupe
from registry.services.review.automatic import HELD_REJECTED, HELD_TWINS, plan_same_child
from registry.services.review.decisions import undo_merge
from registry.services.review.lineage import lineage
from registry.services.review.queue import SAME_CHILD_FIRST, review_queue, store_clusters
from registry.store.models import CaseRecord, Child
from registry.store.tables.audit import AuditEventChildRow, AuditEventRow, AuditPendingRow
from registry.store.tables.matching import ClusterAssignment, DedupeRun, SuspectedDuplicate
from registry.store.tables.review import Merge, ReviewLabel

state: dict = {}


def _open_pairs(reg) -> list[SuspectedDuplicate]:
    with reg.db.sessions() as s:
        return list(s.scalars(select(SuspectedDuplicate).where(SuspectedDuplicate.status == "open")))


def _live_pairs(reg) -> list[tuple[int, float, str | None]]:
    """Open pairs whose two records are still two children: what the queue holds."""
    with reg.db.sessions() as s:
        child = dict(s.execute(select(CaseRecord.record_id, CaseRecord.child_id)).all())
    return [(p.pair_id, p.probability, p.held) for p in _open_pairs(reg) if child[p.record_a] != child[p.record_b]]


def test_with_automatic_merging_off_same_child_pairs_wait_in_the_queue_ranked_first(trained_off, kit):
    reg = trained_off
    pairs = _live_pairs(reg)
    same = [p for p in pairs if p[1] >= SAME_THRESHOLD]
    assert len(same) > 10 and len(pairs) > len(same)
    with reg.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Merge)) == 0
        run = s.scalars(select(DedupeRun).order_by(DedupeRun.started_at.desc())).first()
        assert run.auto_merged == 0
    page = review_queue(reg, kit.reviewer, limit=10_000)
    first = [c.pairs[0].probability >= SAME_THRESHOLD for c in page.clusters]
    assert first[0] and sum(first) > 5 and first == sorted(first, reverse=True)  # same-child clusters lead
    assert all(p.priority >= SAME_CHILD_FIRST
               for c in page.clusters for p in c.pairs if p.probability >= SAME_THRESHOLD)
    state["same_while_off"] = {(p[0]) for p in same}


def test_lookups_answer_in_the_batch_bands_for_the_same_pair(trained_off, kit):
    """Real time and batch agree: a lookup with one record's identity scores the other record's child as the
    batch run scored the pair, and says "likely" exactly for the same-child band, "possible" for the queue's."""
    reg = trained_off
    with reg.db.sessions() as s:
        sizes = dict(s.execute(select(CaseRecord.child_id, func.count()).group_by(CaseRecord.child_id)).all())
        child = dict(s.execute(select(CaseRecord.record_id, CaseRecord.child_id)).all())
    pairs = [p for p in _open_pairs(reg) if sizes[child[p.record_b]] == 1]
    by_band: dict[str, list] = {"same": [], "possible": []}
    for p in sorted(pairs, key=lambda p: p.pair_id):
        by_band[decision_band(p.probability)].append(p)
    scripts = set()
    for band, chosen in by_band.items():
        assert len(chosen) >= 5, band
        for p in chosen[:15]:
            with reg.db.sessions() as s:
                identity = reg.vault.open(s, p.record_a)
            scripts.add(script_of(identity.given_name or identity.family_name or ""))
            found = {m.child_id: m for m in lookups.find_matches(reg, identity, {child[p.record_a]})}
            m = found[child[p.record_b]]
            assert m.probability == pytest.approx(p.probability, abs=1e-9)
            assert decision_band(m.probability) == band
            expected = disclosure.LIKELY_MATCH if band == "same" else disclosure.POSSIBLE_MATCH
            assert disclosure.match_class(m.probability) == expected
            # The answer is at least the pair's band: other children sharing the data only add to "known".
            answer = disclosure.answer_lookup(list(found.values()), {}, {}, known=lookups.known(list(found.values())))
            assert answer.outcome in (expected, disclosure.LIKELY_MATCH)
    assert {"arabic", "latin"} <= scripts
    assert (disclosure.LIKELY, disclosure.POSSIBLE) == (SAME_THRESHOLD, POSSIBLE_THRESHOLD)


def test_known_probability_adds_the_odds_of_exclusive_candidates():
    assert known_probability([]) == 0.0
    assert known_probability([0.7]) == pytest.approx(0.7)
    assert known_probability([0.5, 0.5]) == pytest.approx(2 / 3)  # odds 1 + 1
    assert known_probability([0.999, 0.2]) > 0.999
    assert known_probability([1.0, 0.3]) == 1.0
    # Several weak candidates: possible, but no contact point of a child that is not itself a possible match.
    weak = [type("M", (), {"child_id": f"CR-{i}", "probability": 0.3, "institutions": ["x"]})() for i in range(3)]
    answer = disclosure.answer_lookup(weak, {m.child_id: True for m in weak}, {}, known=known_probability([0.3] * 3))
    assert answer.outcome == disclosure.POSSIBLE_MATCH and answer.contacts == () and answer.contact_national_unit


def test_a_run_merges_the_same_child_band_automatically_and_queues_only_the_possible_band(trained_off, kit):
    reg = trained_off
    reg.settings = reg.settings.model_copy(update={"auto_merge": True})
    result = run_dedupe(reg)
    assert result.auto_merged > 10
    pairs = _live_pairs(reg)
    assert pairs and all(p >= POSSIBLE_THRESHOLD for _, p, _ in pairs)
    assert all(p < SAME_THRESHOLD or held for _, p, held in pairs)  # same-child pairs left only if held apart
    with reg.db.sessions() as s:
        merges = s.scalars(select(Merge).where(Merge.run_id == result.run_id)).all()
        assert len(merges) == result.auto_merged
        assert all(m.automatic and m.decided_by == "auto" and m.probability >= SAME_THRESHOLD for m in merges)
        assert {m.pair_id for m in merges} <= state["same_while_off"] | {m.pair_id for m in merges}
        # Audited: by the system, one event per transaction of merges, naming every child a merge joined.
        events = s.scalars(select(AuditEventRow).where(
            AuditEventRow.action == "merge", AuditEventRow.purpose == policy.AUTOMATIC_DEDUPLICATION)).all()
        assert 1 <= len(events) <= len(merges)
        assert {e.role for e in events} == {"system_admin"} and {e.decision for e in events} == {"permit"}
        named = set(s.scalars(select(AuditEventChildRow.child).where(
            AuditEventChildRow.leaf_index.in_([e.leaf_index for e in events]))))
        assert named == {c for m in merges for c in (m.survivor, m.absorbed)}
        # Chained every few transactions and at the run's end: none left waiting in audit_pending.
        assert s.scalar(select(func.count()).select_from(AuditPendingRow)) == 0
        # The model's own answers are not labels that measure it.
        assert {r.decided_by for r in s.scalars(select(ReviewLabel))} == {"auto"}
    state["run"], state["merges"] = result.run_id, [m.merge_id for m in merges]


def test_export_clusters_follow_the_merges(trained_off, tmp_path):
    reg = trained_off
    out = tmp_path / "clusters.csv"
    export_clusters(reg, out)
    with open(out, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_child: dict[str, set[str]] = {}
    for r in rows:
        by_child.setdefault(r["child_id"], set()).add(r["cluster_id"])
    assert all(len(c) == 1 for c in by_child.values())  # one cluster per child...
    assert len({r["cluster_id"] for r in rows}) == len(by_child)  # ...and one child per cluster
    assert any(sum(1 for r in rows if r["child_id"] == c) > 1 for c in by_child)


def test_a_run_writes_only_the_clusters_that_changed(reg):
    """On SQLite and PostgreSQL: the second run's assignments are exactly what it decided (a record moved to
    another cluster, one no longer seen dropped, a new one added), and only the rows it changed carry its id."""
    def stored() -> dict[str, tuple[str, str]]:
        with reg.db.sessions() as s:
            return {r: (c, run) for r, c, run in s.execute(
                select(ClusterAssignment.record_id, ClusterAssignment.cluster_id, ClusterAssignment.run_id))}

    first = {"R1": "R1", "R2": "R1", "R3": "R3", "R4": "R4"}
    with reg.db.unit_of_work() as s:
        assert store_clusters(s, "run-1", first) == 4
    second = {"R1": "R1", "R2": "R1", "R3": "R1", "R5": "R5"}  # R3 joins R1's cluster, R4 gone, R5 new
    with reg.db.unit_of_work() as s:
        assert store_clusters(s, "run-2", second) == 3
    assert stored() == {"R1": ("R1", "run-1"), "R2": ("R1", "run-1"), "R3": ("R1", "run-2"), "R5": ("R5", "run-2")}
    with reg.db.unit_of_work() as s:
        assert store_clusters(s, "run-3", second) == 0  # nothing changed, nothing written


def test_each_record_is_clustered_with_the_child_the_merges_will_make_named_by_its_smallest_record():
    from registry.services.review.automatic import _clusters, _Components

    child_of = {"R3": "C1", "R1": "C2", "R2": "C1", "R4": "C3", "R0": "C4"}
    parts = _Components(child_of, [], {"C1", "C2", "C4"})
    parts.union("C1", "C2")
    assert _clusters(child_of, parts) == {"R1": "R1", "R2": "R1", "R3": "R1", "R4": "R4", "R0": "R0"}


def test_an_automatic_merge_is_in_the_lineage_without_a_score(trained_off, kit):
    reg = trained_off
    with reg.db.sessions() as s:
        merge = s.get(Merge, state["merges"][0])
    lin = lineage(reg, kit.reviewer, merge.absorbed)
    entry = next(m for m in lin.merges if m["merge_id"] == merge.merge_id)
    assert entry["automatic"] and entry["decided_by"] == "auto" and entry["run_id"] == state["run"]
    assert entry["band"] == "same child" and "probability" not in entry
    assert lin.redirected and lin.current == merge.survivor


def test_undoing_an_automatic_merge_sticks_across_the_next_run(trained_off, kit):
    reg = trained_off
    with reg.db.sessions() as s:
        merge = s.get(Merge, state["merges"][0])
    undone = undo_merge(reg, kit.reviewer, merge.merge_id)
    with reg.db.sessions() as s:
        assert s.get(Child, merge.absorbed).status == "active"
        decided = s.get(SuspectedDuplicate, merge.pair_id)
        assert decided.status == "rejected"  # a person said: not the same child
        label = s.scalars(select(ReviewLabel).where(ReviewLabel.pair_id == merge.pair_id)
                          .order_by(ReviewLabel.label_id.desc())).first()
        assert (label.decision, label.decided_by) == ("not-duplicate", kit.reviewer.user_id)
    assert undone.restored == merge.absorbed
    run_dedupe(reg)
    with reg.db.sessions() as s:
        survivor_records = set(s.scalars(select(CaseRecord.record_id).where(CaseRecord.child_id == merge.survivor)))
        absorbed_records = set(s.scalars(select(CaseRecord.record_id).where(CaseRecord.child_id == merge.absorbed)))
        assert s.get(Child, merge.absorbed).status == "active"  # not merged again
        assert survivor_records and absorbed_records
        assert s.get(SuspectedDuplicate, merge.pair_id).status == "rejected"  # nor queued again
        again = s.scalars(select(Merge).where(Merge.survivor.in_([merge.survivor, merge.absorbed]),
                                              Merge.absorbed.in_([merge.survivor, merge.absorbed]),
                                              Merge.undone_at.is_(None))).all()
        assert again == []


def joinable_third(s, model, records: tuple[str, str]) -> str:
    """The one active record of a third child that the twin rule lets join the children of both `records` (any two
    records with different given names may be capped), so that only the rule under test can hold a merge."""
    from registry.matching.index import from_entry
    from registry.services.review.automatic import twin_rule_applies
    from registry.store.tables.matching import LinkageEntry

    child = dict(s.execute(select(CaseRecord.record_id, CaseRecord.child_id)
                           .where(CaseRecord.status == "active")).all())
    rows = {e.record_id: from_entry(e) for e in s.scalars(select(LinkageEntry)) if e.record_id in child}
    members = [r for r in rows if child[r] in {child[x] for x in records if x in child}] + list(records)
    sizes = Counter(child.values())
    return next(r for r in sorted(rows) if r not in members and sizes[child[r]] == 1  # a child of one record
                and not any(twin_rule_applies(model, rows[m], rows[r]) for m in members if m in rows))


def test_must_stay_apart_holds_across_a_third_record(trained_off):
    """A record that is the same child as each of two records a person said are different joins one of them
    only; the other pair is held for a person, saying why."""
    reg = trained_off
    with reg.db.sessions() as s:
        merge_pair_id = s.get(Merge, state["merges"][0]).pair_id
        rejected = s.get(SuspectedDuplicate, merge_pair_id)
        a, b = rejected.record_a, rejected.record_b
        third = joinable_third(s, reg.model(), (a, b))
        plan = plan_same_child(s, reg.model(), [(-1, a, third, 0.9999), (-2, b, third, 0.9998)])
    assert plan.merges == [-1] and plan.held == {-2: HELD_REJECTED}


def test_twins_are_never_chained_into_one_child(trained_off):
    """Two records the twin rule keeps apart (capped: same family and birthday, different given names) are
    never made one child through a third record, however sure each link is."""
    reg = trained_off
    model = reg.model()
    from registry.matching.index import from_entry
    from registry.store.tables.matching import LinkageEntry

    with reg.db.sessions() as s:
        # Active records only: earlier tests of this module merge and undo on the same registry.
        child = dict(s.execute(select(CaseRecord.record_id, CaseRecord.child_id)
                               .where(CaseRecord.status == "active")).all())
        rows = {e.record_id: from_entry(e) for e in s.scalars(select(LinkageEntry)) if e.record_id in child}
        by_key: dict[tuple, list[str]] = {}
        for rid, row in rows.items():
            if row["dob_full"] and row["family_skel"]:
                by_key.setdefault((row["dob_full"], row["family_skel"]), []).append(rid)
        twins = next((x, y) for group in by_key.values() for x in group for y in group
                     if x < y and child[x] != child[y] and model.score(rows[x], rows[y]).capped_by)
        third = joinable_third(s, model, twins)
        plan = plan_same_child(s, model, [(-1, twins[0], third, 0.9999), (-2, twins[1], third, 0.9998)])
    assert plan.merges == [-1] and plan.held == {-2: HELD_TWINS}


def test_the_queue_is_ranked_by_what_a_decision_is_worth(trained_off, kit):
    reg = trained_off
    page = review_queue(reg, kit.reviewer, limit=10_000)
    worth = [c.pairs[0].worth for c in page.clusters]
    assert worth == sorted(worth, reverse=True)
    with reg.db.sessions() as s:
        sizes = dict(s.execute(select(CaseRecord.child_id, func.count()).group_by(CaseRecord.child_id)).all())
    for c in page.clusters[:40]:
        p = c.pairs[0]
        expected = p.probability * sizes[p.a.child_id] * sizes[p.b.child_id]
        assert p.priority == pytest.approx(expected + (SAME_CHILD_FIRST if p.probability >= SAME_THRESHOLD else 0))
        assert p.as_dict()["band"] in ("possible", "same")


def _one_child_in_two_scripts(reg, kit):
    """400 generated children, then one child in Arabic at one institution and in Latin letters at another
    (same national ID and date, so a run merges them). Returns their (child, record) pairs."""
    from registry.identity import validate_identity
    from registry.services.registration import register_child
    from registry.synth import generate

    for rec in generate(400, seed=11).records:
        try:
            register_child(reg, validate_identity(rec.row))
        except Exception:
            continue
    arabic = {**kit.mohammed[0], "national_id": "01234567890"}
    latin = {**kit.mohammed[1], "date_of_birth": "2015-03-04"}
    return kit.register(reg, arabic), kit.register(reg, latin)


def test_a_run_leaves_a_child_whose_consent_to_deduplication_was_withdrawn_out_of_matching(registry, kit):
    """On SQLite and PostgreSQL: the Arabic and the Latin record of one child (same national ID and date) would
    merge; with the Arabic child's consent to deduplication withdrawn, the run neither merges nor pairs them,
    and the child's pseudonym and records stay as they were."""
    import datetime as dt

    from registry.store.db import utcnow
    from registry.store.tables.consent import ConsentRecord

    reg = registry
    (ca, ra), _ = _one_child_in_two_scripts(reg, kit)
    with reg.db.unit_of_work() as s:
        s.add(ConsentRecord(consent_id="Cwithdrawn02", child_id=ca, purpose="deduplication",
                            given_on=dt.date(2024, 1, 1), recorded_by="U1", recorded_agency="sy-homs-ngo",
                            withdrawn_at=utcnow(), withdrawn_by="caregiver"))
    with reg.db.sessions() as s:
        registered = s.scalar(select(func.count()).select_from(CaseRecord))
    result = run_dedupe(reg)
    assert result.records == registered - 1 and result.auto_merged > 0  # every other record, and others merged
    with reg.db.sessions() as s:
        assert s.get(Child, ca).status == "active" and s.get(CaseRecord, ra).child_id == ca
        assert not s.scalars(select(Merge).where(Merge.absorbed == ca)).all()
        assert not s.scalars(select(SuspectedDuplicate).where(
            (SuspectedDuplicate.record_a == ra) | (SuspectedDuplicate.record_b == ra))).all()


def test_an_arabic_and_a_latin_record_of_one_child_merge_automatically_and_stay_apart_once_undone(
        registry, kit):
    """On SQLite and PostgreSQL: the same child written in Arabic by one institution and in Latin letters by
    another (same national ID and date) is merged by the run, as the system, and an undo sticks."""
    reg = registry
    (ca, ra), (cb, rb) = _one_child_in_two_scripts(reg, kit)
    first = run_dedupe(reg)
    with reg.db.sessions() as s:
        merge = s.scalars(select(Merge).where(Merge.absorbed.in_([ca, cb]))).one()
        assert {merge.survivor, merge.absorbed} == {ca, cb}
        assert (merge.automatic, merge.decided_by, merge.run_id) == (True, "auto", first.run_id)
        assert {s.get(CaseRecord, r).child_id for r in (ra, rb)} == {merge.survivor}
    entry = next(m for m in lineage(reg, kit.reviewer, cb).merges if m["merge_id"] == merge.merge_id)
    assert entry["automatic"] and entry["band"] == "same child"
    undo_merge(reg, kit.reviewer, merge.merge_id)
    second = run_dedupe(reg)
    with reg.db.sessions() as s:
        assert s.get(CaseRecord, ra).child_id == ca and s.get(CaseRecord, rb).child_id == cb
        assert not s.scalars(select(Merge).where(Merge.run_id == second.run_id, Merge.absorbed.in_([ca, cb]))).all()
        assert [p.status for p in s.scalars(select(SuspectedDuplicate).where(
            SuspectedDuplicate.record_a.in_([ra, rb]), SuspectedDuplicate.record_b.in_([ra, rb])))] == ["rejected"]


def test_planned_merges_are_grouped_by_the_child_they_make_in_the_order_its_rows_were_written(reg, kit):
    """Five children registered one after another (Arabic and Latin records of Mohammed). Planned by
    probability, the merges are made one child's at a time, in each child's own order, the child whose youngest
    record was written first going first: what a merge absorbs then lies on neighbouring pages."""
    rows = [{**kit.mohammed[i % 2], "source_ref": f"ORDER-{i}"} for i in range(5)]
    records = [kit.register(reg, row)[1] for row in rows]
    r1, r2, r3, r4, r5 = records
    with reg.db.sessions() as s:
        plan = plan_same_child(s, None, [(-1, r1, r4, 0.9999), (-2, r2, r3, 0.9995), (-3, r4, r5, 0.9990)])
    assert plan.merges == [-2, -1, -3]  # {2, 3} is complete at its third record, {1, 4, 5} at its fifth
    assert plan.held == {}
