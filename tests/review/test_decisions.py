"""Merge, undo, lineage and concurrent decisions, on SQLite and PostgreSQL, with children written in Arabic
and in Latin script by three institutions."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from registry.errors import Conflict
from registry.services.access import AccessDenied
from registry.services.registration import get_child
from registry.services.review.decisions import merge_children, merge_pair, reject_pair, undo_merge
from registry.services.review.lineage import lineage
from registry.store.models import resolve_child
from registry.store.tables.review import Merge, ReviewLabel


def test_merge_then_undo_restores_both_children_and_their_pointers_exactly(reg, kit):
    (ca, ra), (cb, rb) = kit.register(reg, kit.mohammed[0]), kit.register(reg, kit.mohammed[1])
    pair_id = kit.queue_pair(reg, ra, rb)
    before = kit.snapshot(reg)

    merged = merge_pair(reg, kit.reviewer, pair_id)
    assert (merged.survivor, merged.absorbed, merged.records_moved) == (ca, cb, 1)  # the older pseudonym stays
    view = get_child(reg, cb)  # the absorbed pseudonym still resolves, to the surviving child
    assert view.child_id == ca and view.status == "active"
    assert {r["institution"] for r in view.records} == {"sy-homs-ngo", "sy-aleppo-cp"}  # both pointers kept
    given = {r["identity"]["given_name"] for r in view.records}
    assert given == {"محمد", "Mohammed"}
    # Golden identity: Arabic names for display, the exact date over the bare year, the consistent national ID.
    assert merged.golden_sources["given_name"] == ra and merged.golden_sources["date_of_birth"] == ra
    assert merged.golden_sources["national_id"] == rb

    undone = undo_merge(reg, kit.reviewer, merged.merge_id)
    assert (undone.restored, undone.records_moved_back, undone.reopened_pairs) == (cb, 1, [pair_id])
    assert kit.snapshot(reg) == before
    assert get_child(reg, cb).child_id == cb
    with reg.db.unit_of_work() as s:
        labels = [x.decision for x in s.scalars(select(ReviewLabel).order_by(ReviewLabel.label_id))]
    assert labels == ["merge", "undone"]


def test_old_pseudonyms_resolve_through_chained_merges(reg, kit):
    (ca, _), (cb, _), (cc, _) = (kit.register(reg, row) for row in kit.mohammed)
    merge_children(reg, kit.reviewer, ca, cb)
    merge_children(reg, kit.reviewer, cb, cc)  # by the absorbed pseudonym: follows to the current child
    with reg.db.unit_of_work() as s:
        assert {resolve_child(s, c).child_id for c in (ca, cb, cc)} == {ca}
    lin = lineage(reg, kit.reviewer, cc)
    assert lin.current == ca and lin.redirected
    assert [(m["survivor"], m["absorbed"]) for m in lin.merges] == [(ca, cb), (ca, cc)]


@pytest.mark.parametrize("order", ["first-then-second", "second-then-first"])
def test_independent_chained_merges_undo_in_either_order(reg, kit, order):
    (ca, _), (cb, _), (cc, _) = (kit.register(reg, row) for row in kit.mohammed)
    before = kit.snapshot(reg)
    first = merge_children(reg, kit.reviewer, ca, cb).merge_id  # A absorbs B
    second = merge_children(reg, kit.reviewer, ca, cc).merge_id  # AB absorbs C: B's records stay where they are
    for merge_id in ([first, second] if order == "first-then-second" else [second, first]):
        undo_merge(reg, kit.reviewer, merge_id)
    assert kit.snapshot(reg) == before


def test_undo_refuses_an_order_lineage_does_not_allow(reg, kit):
    (ca, _), (cb, _), (cc, _) = (kit.register(reg, row) for row in kit.mohammed)
    before = kit.snapshot(reg)
    first = merge_children(reg, kit.reviewer, ca, cb).merge_id  # A absorbs B
    second = merge_children(reg, kit.reviewer, ca, cc, survivor=cc).merge_id  # C absorbs AB: B's records move on
    with pytest.raises(Conflict) as refused:
        undo_merge(reg, kit.reviewer, first)
    assert f"undo {second} first" in refused.value.reason
    undo_merge(reg, kit.reviewer, second)
    with pytest.raises(Conflict, match="undone already"):
        undo_merge(reg, kit.reviewer, second)
    undo_merge(reg, kit.reviewer, first)
    assert kit.snapshot(reg) == before


def test_a_decided_pair_cannot_be_decided_again(reg, kit):
    (_, ra), (_, rb) = kit.register(reg, kit.mohammed[0]), kit.register(reg, kit.mohammed[2])
    pair_id = kit.queue_pair(reg, ra, rb)
    assert reject_pair(reg, kit.reviewer, pair_id)["status"] == "rejected"
    with pytest.raises(Conflict, match="already decided"):
        merge_pair(reg, kit.reviewer, pair_id)


def test_only_the_national_unit_may_decide(reg, kit):
    (_, ra), (_, rb) = kit.register(reg, kit.mohammed[0]), kit.register(reg, kit.mohammed[1])
    pair_id = kit.queue_pair(reg, ra, rb)
    with pytest.raises(AccessDenied) as denied:
        merge_pair(reg, kit.caseworker, pair_id)
    assert denied.value.decision.reason_code == "deny.role"
    events = [reg.audit.entry(i).event for i in range(reg.audit.size())]
    assert any(e.action == "merge" and e.decision == "deny" for e in events)


@pytest.mark.parametrize("second", ["merge", "reject"])
def test_concurrent_decisions_on_one_pair_apply_once(reg, kit, second):
    (_, ra), (_, rb) = kit.register(reg, kit.mohammed[0]), kit.register(reg, kit.mohammed[1])
    pair_id = kit.queue_pair(reg, ra, rb)
    start, outcomes = threading.Barrier(2), []

    def decide(kind: str) -> None:
        start.wait()
        try:
            (merge_pair if kind == "merge" else reject_pair)(reg, kit.reviewer, pair_id)
            outcomes.append(kind)
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=decide, args=(k,)) for k in ("merge", second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes).count("conflict") == 1, outcomes
    with reg.db.unit_of_work() as s:
        merges = s.scalars(select(Merge)).all()
        labels = s.scalars(select(ReviewLabel)).all()
    assert len(labels) == 1
    assert len(merges) == (1 if "merge" in outcomes else 0)


def test_decisions_are_audited_with_pseudonyms_only(reg, kit):
    (ca, ra), (cb, rb) = kit.register(reg, kit.mohammed[0]), kit.register(reg, kit.mohammed[1])
    pair_id = kit.queue_pair(reg, ra, rb)
    merge_id = merge_pair(reg, kit.reviewer, pair_id).merge_id
    undo_merge(reg, kit.reviewer, merge_id)
    reject_pair(reg, kit.reviewer, pair_id)
    events = [reg.audit.entry(i).event for i in range(reg.audit.size())]
    decided = {e.action: e for e in events if e.action.startswith("merge")}
    assert set(decided) == {"merge", "merge-undo", "merge-reject"}
    for e in decided.values():
        assert e.children == tuple(sorted((ca, cb))) and e.user_id == kit.reviewer.user_id
        assert e.decision == "permit" and e.reason_code.startswith("permit.")
    text = repr(events)
    assert not any(v in text for v in ("محمد", "Mohammed", "الحلبي", "Al-Halabi", "01234567890"))


def test_withdrawn_consent_to_deduplication_closes_the_identities_and_the_merge(reg, kit):
    import datetime as dt

    from registry.services.review.queue import get_pair
    from registry.store.db import utcnow
    from registry.store.tables.consent import ConsentRecord

    (ca, ra), (_, rb) = kit.register(reg, kit.mohammed[0]), kit.register(reg, kit.mohammed[1])
    pair_id = kit.queue_pair(reg, ra, rb)
    with reg.db.unit_of_work() as s:
        s.add(ConsentRecord(consent_id="Cwithdrawn01", child_id=ca, purpose="deduplication",
                            given_on=dt.date(2024, 1, 1), recorded_by="U1", recorded_agency="sy-homs-ngo",
                            withdrawn_at=utcnow(), withdrawn_by="caregiver"))
    with pytest.raises(AccessDenied) as closed:
        get_pair(reg, kit.reviewer, pair_id, purpose="deduplication-review")
    assert closed.value.decision.reason_code == "deny.consent-withdrawn"
    with pytest.raises(AccessDenied):
        merge_pair(reg, kit.reviewer, pair_id)


def test_a_merge_closes_the_clusters_other_pairs_and_its_undo_asks_the_question_once(reg, kit):
    (ca, ra), (cb, rb), (cc, rc) = (kit.register(reg, row) for row in kit.mohammed)
    ab, ac, bc = kit.queue_pair(reg, ra, rb), kit.queue_pair(reg, ra, rc), kit.queue_pair(reg, rb, rc)
    merge_pair(reg, kit.reviewer, ab)
    second = merge_pair(reg, kit.reviewer, ac)  # AB + C: B–C now lies inside one child
    assert (second.survivor, second.absorbed, second.records_moved) == (ca, cc, 1)
    with pytest.raises(Conflict, match="already decided"):
        reject_pair(reg, kit.reviewer, bc)
    assert undo_merge(reg, kit.reviewer, second.merge_id).reopened_pairs == sorted([ac, bc])
    # A–C and B–C are again between the same two children: the pair the reviewer decided asks, B–C is covered.
    assert dict(kit.snapshot(reg)["pairs"]) == {ab: "merged", ac: "open", bc: "covered"}


def _statuses(reg, kit, *pair_ids):
    pairs = dict(kit.snapshot(reg)["pairs"])
    return [pairs[p] for p in pair_ids]


def _batch(reg, run_id, scored):
    """What a batch run does with its scored pairs once its merges are made: store them, then the queue."""
    from registry.services.review.queue import finish_batch_queue, store_batch_pairs
    with reg.db.unit_of_work() as s:
        store_batch_pairs(s, run_id, scored)
    with reg.db.unit_of_work() as s:
        return finish_batch_queue(s, run_id, {})


def test_the_queue_asks_once_about_two_children_and_a_rejection_answers_for_both(reg, kit):
    """Mohammed in Arabic at one agency; the same name in Latin letters and again in Arabic, merged into one
    child at two others. Both of that child's records pair with the first child: one question, not two, and the
    reviewer's "not the same child" closes it until one of the two children changes."""
    (c_ar, r_ar), (c_lat, r_lat), (c_eg, r_eg) = (kit.register(reg, row) for row in kit.mohammed)
    merge_children(reg, kit.reviewer, c_lat, c_eg)
    first, second = kit.queue_pair(reg, r_ar, r_lat, 0.93), kit.queue_pair(reg, r_ar, r_eg, 0.71)
    assert _batch(reg, "R1", [(r_ar, r_lat, 0.93, 4.0), (r_ar, r_eg, 0.71, 2.0)]) == 1
    assert _statuses(reg, kit, first, second) == ["open", "covered"]  # the more probable pair asks the question

    assert reject_pair(reg, kit.reviewer, first)["status"] == "rejected"
    assert kit.register(reg, kit.mohammed[1])[1] == r_lat  # sent again unchanged: nothing new to decide on
    assert _batch(reg, "R2", [(r_ar, r_lat, 0.93, 4.0), (r_ar, r_eg, 0.71, 2.0)]) == 0
    assert _statuses(reg, kit, first, second) == ["rejected", "covered"]

    # The Egyptian institution corrects its record: that child is not the one the reviewer saw any more.
    assert kit.register(reg, {**kit.mohammed[2], "date_of_birth": "2015-03-04"})[1] == r_eg
    assert _batch(reg, "R3", [(r_ar, r_lat, 0.93, 4.0), (r_ar, r_eg, 0.88, 3.0)]) == 1
    assert _statuses(reg, kit, first, second) == ["rejected", "open"]


def test_a_rejection_covers_the_two_childrens_other_open_pairs_at_once(reg, kit):
    (c_ar, r_ar), (c_lat, r_lat), (c_eg, r_eg) = (kit.register(reg, row) for row in kit.mohammed)
    merge_children(reg, kit.reviewer, c_lat, c_eg)
    # Two registrations queued a pair each before any batch run grouped them.
    first, second = kit.queue_pair(reg, r_ar, r_lat, 0.6), kit.queue_pair(reg, r_ar, r_eg, 0.8)
    reject_pair(reg, kit.reviewer, second)
    assert _statuses(reg, kit, first, second) == ["covered", "rejected"]
    with pytest.raises(Conflict, match="already decided"):
        merge_pair(reg, kit.reviewer, first)


def test_the_queue_groups_pairs_joined_through_a_child_into_one_cluster(reg, kit):
    """Mohammed in Arabic, in Latin letters and at an Egyptian institution, three children: a batch run pairs
    the first with the second and the second with the third. The reviewer sees one cluster of three children,
    not two unrelated questions."""
    from registry.services.review.queue import review_queue

    (c_ar, r_ar), (c_lat, r_lat), (c_eg, r_eg) = (kit.register(reg, row) for row in kit.mohammed)
    kit.queue_pair(reg, r_ar, r_lat, 0.93), kit.queue_pair(reg, r_lat, r_eg, 0.71)
    assert _batch(reg, "R1", [(r_ar, r_lat, 0.93, 4.0), (r_lat, r_eg, 0.71, 2.0)]) == 2
    page = review_queue(reg, kit.reviewer, limit=100)
    assert [sorted(c.children) for c in page.clusters] == [sorted((c_ar, c_lat, c_eg))]


def test_a_runs_new_pairs_are_numbered_in_the_order_merges_take_them_and_merge_ids_in_the_order_made(reg, kit):
    """A run's new pairs are numbered by the place of their later record in the registry (most probable first
    among equals), the order automatic merges take them, and a merge's id sorts after every earlier merge's: a
    transaction of merges then writes neighbouring rows, not one page each. Arabic and Latin records of one
    Mohammed."""
    (c_ar, r_ar), (c_lat, r_lat), (c_eg, r_eg) = (kit.register(reg, row) for row in kit.mohammed)
    from registry.services.review.queue import store_batch_pairs
    from registry.store.tables.matching import SuspectedDuplicate

    with reg.db.unit_of_work() as s:
        store_batch_pairs(s, "R1", [(r_ar, r_eg, 0.93, 4.0), (r_lat, r_eg, 0.9991, 9.0), (r_ar, r_lat, 0.71, 2.0)])
    with reg.db.sessions() as s:
        ids = s.execute(select(SuspectedDuplicate.pair_id, SuspectedDuplicate.probability)
                        .order_by(SuspectedDuplicate.pair_id)).all()
    assert [p for _, p in ids] == [0.71, 0.9991, 0.93]

    first = merge_children(reg, kit.reviewer, c_ar, c_lat)
    second = merge_children(reg, kit.reviewer, first.survivor, c_eg)
    assert first.merge_id < second.merge_id
    with reg.db.sessions() as s:
        made = s.scalars(select(Merge.merge_id).order_by(Merge.decided_at)).all()
    assert made == sorted(made) == [first.merge_id, second.merge_id]
