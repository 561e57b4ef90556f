"""Appending, checkpoints and proofs on the stored log (SQLite file and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading

import pytest
from sqlalchemy import func, select

from registry.audit.checkpoint import open_checkpoint
from registry.audit.event import parse_entry
from registry.audit.log import AuditLog
from registry.audit.merkle import root, verify_consistency, verify_inclusion
from registry.store.db import Database
from registry.store.tables.audit import AuditEventChildRow, AuditEventRow


def test_record_returns_consecutive_indexes_and_stores_the_event(log, make_event):
    e0 = make_event(children=("CR-2345-6789-ABC", "CR-AAAA-BBBB-CCD"))
    assert log.record(e0) == 0
    assert log.record(make_event()) == 1
    entry = log.entry(0)
    assert entry.index == 0 and entry.event == e0
    assert log.size() == 2


def test_checkpoint_signs_the_rfc6962_root_and_is_incremental(log, make_event, keys):
    for i in range(5):
        log.record(make_event(query_fingerprint=f"fp-{i}"))
    cp5 = log.checkpoint()
    assert cp5.size == 5 and cp5.root_hash == root(log.leaf_hashes(5))
    assert open_checkpoint(cp5.note, keys.audit_verify_key()).root_hash == cp5.root_hash
    assert log.checkpoint() == cp5  # nothing new: the same checkpoint
    for i in range(6):
        log.record(make_event(query_fingerprint=f"fp-b{i}"))
    cp11 = log.checkpoint()  # built from the size-5 frontier plus 6 new leaves
    assert cp11.size == 11 and cp11.root_hash == root(log.leaf_hashes(11))


def test_checkpoints_are_made_every_n_events(db, keys, make_event):
    log = AuditLog(db, keys, checkpoint_every=4)
    for _ in range(9):
        log.record(make_event())
    assert [size for size, _ in log.checkpoint_notes()] == [4, 8]


def test_proofs_from_the_stored_log_verify_against_signed_checkpoints(log, make_event):
    for i in range(7):
        log.record(make_event(query_fingerprint=f"fp-{i}"))
    cp7 = log.checkpoint()
    for i in range(6):
        log.record(make_event(query_fingerprint=f"fp-x{i}"))
    cp13 = log.checkpoint()
    leaf3 = log.leaf_hashes(4)[3]
    assert verify_inclusion(leaf3, 3, 13, log.inclusion_proof(3), cp13.root_hash)
    assert verify_inclusion(leaf3, 3, 7, log.inclusion_proof(3, 7), cp7.root_hash)
    assert verify_consistency(7, 13, cp7.root_hash, cp13.root_hash, log.consistency_proof(7))


def test_recording_in_the_callers_session_commits_or_rolls_back_with_the_action(log, make_event):
    with log.db.unit_of_work() as s:
        assert log.record(make_event(action="register"), session=s) is None  # its place comes at commit
        assert log.size() == 0  # not in the chain before the action commits
    assert log.entry(0).event.action == "register"
    with pytest.raises(RuntimeError), log.db.unit_of_work() as s:
        log.record(make_event(action="register", reason_code="second"), session=s)
        raise RuntimeError("the registration failed")
    assert log.size() == 1
    assert log.record(make_event()) == 1  # the rolled-back index is reused: no gap
    assert log.verify().ok


def test_concurrent_appenders_in_threads_never_share_an_index(log, make_event):
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                log.record(make_event(user_id=f"u-{n}", query_fingerprint=f"fp-{n}-{i}"))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert log.size() == 90
    with log.db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(AuditEventRow)) == 90
    log.checkpoint()
    assert log.verify().ok


def _append_in_process(url: str, key_dir: str, worker: int, n: int) -> None:
    from registry.audit.event import AuditEvent
    from registry.keys import load_keys

    log = AuditLog(Database(url), load_keys(__import__("pathlib").Path(key_dir)), checkpoint_every=None)
    for i in range(n):
        log.record(
            AuditEvent(
                action="lookup",
                outcome="no-match",
                user_id=f"u-p{worker}",
                role="caseworker",
                agency="agency-a",
                purpose="deduplication",
                legal_basis="consent:c-1",
                decision="permit",
                reason_code="ok",
                query_fingerprint=f"fp-{worker}-{i}",
            )
        )


def test_concurrent_appenders_in_separate_processes_never_share_an_index(log, keys):
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_append_in_process, args=(log.db.url, str(keys.key_dir), w, 20)) for w in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert log.size() == 60
    indexes = [parse_entry(raw).index for _, raw, _ in log.stored_entries()]
    assert indexes == list(range(60))
    log.checkpoint()
    assert log.verify().ok


def test_children_are_linked_for_querying(log, make_event):
    log.record(make_event(children=("CR-2345-6789-ABC",)))
    with log.db.unit_of_work() as s:
        assert s.execute(select(AuditEventChildRow.leaf_index, AuditEventChildRow.child)).all() == [
            (0, "CR-2345-6789-ABC")
        ]


def test_times_are_stored_in_utc(log, make_event):
    aware = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    log.record(make_event(at=aware))
    assert log.entry(0).event.at == dt.datetime(2026, 3, 2, 9, 0)


def test_concurrent_appenders_inside_callers_sessions_never_share_an_index(log, make_event):
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                with log.db.unit_of_work() as s:
                    log.record(make_event(user_id=f"u-{n}", query_fingerprint=f"fp-{n}-{i}"), session=s)
                log.record(make_event(user_id=f"u-{n}", query_fingerprint=f"fp-own-{n}-{i}"))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert log.size() == 80
    log.checkpoint()
    assert log.verify().ok
