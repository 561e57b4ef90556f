"""Cutting the log back, with and without the signing key, against automatic checkpoints and witnesses.

The log here runs as the registry runs it: checkpoints made on their own (every N entries, or on a timer) and
recorded in the log (`audit-checkpoint` entries), published to a file witness and/or a real HTTP witness.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from registry.audit.checkpoint import Checkpoint, sign_checkpoint
from registry.audit.log import AuditLog
from registry.audit.scheduler import Checkpointer
from registry.audit.witness import FileWitness, HttpWitness, read_witness_file, witness_app
from registry.store.db import utcnow
from registry.store.tables.audit import AuditCheckpointRow, AuditEventChildRow, AuditEventRow


def _cut(log: AuditLog, keep: int) -> None:
    """What someone with write access to the database does: delete every entry from `keep` on."""
    with log.db.unit_of_work() as s:
        s.execute(delete(AuditEventChildRow).where(AuditEventChildRow.leaf_index >= keep))
        s.execute(delete(AuditEventRow).where(AuditEventRow.leaf_index >= keep))


def _drop_checkpoints(log: AuditLog, above: int = -1) -> None:
    with log.db.unit_of_work() as s:
        s.execute(delete(AuditCheckpointRow).where(AuditCheckpointRow.tree_size > above))


def _size(log: AuditLog) -> int:
    with log.db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(AuditEventRow))


@pytest.fixture
def witness_file(tmp_path: Path) -> Path:
    return tmp_path / "witness" / "checkpoints.jsonl"


@pytest.fixture
def wlog(db, keys, witness_file) -> AuditLog:
    witness_file.parent.mkdir()
    return AuditLog(db, keys, checkpoint_every=5, witnesses=(FileWitness(witness_file),))


def _fill(log: AuditLog, make_event, n: int) -> None:
    for i in range(n):
        log.record(make_event(query_fingerprint=f"fp-{i:04d}", children=(f"CR-CUT0-{i:04d}",)))


def test_checkpoints_are_made_on_their_own_recorded_and_published(wlog, make_event, witness_file):
    _fill(wlog, make_event, 12)
    notes = read_witness_file(witness_file)
    sizes = [int(n.split("\n")[1]) for n in notes]
    # Every 5 entries; entry 5 records the first checkpoint, entry 10 the second: 14 entries for 12 events.
    assert sizes == [5, 10] and _size(wlog) == 14
    assert witness_file.stat().st_mode & 0o777 == 0o600
    report = wlog.verify()
    assert report.ok, report.problems
    assert report.witnessed.size == 10 and report.after_witnessed == 4
    assert "4 entries after the last witnessed checkpoint (size 10)" in report.exposure()


def test_a_cut_after_the_last_witnessed_checkpoint_is_reported_as_exposure_not_hidden(wlog, make_event):
    _fill(wlog, make_event, 12)  # checkpoints at 5 and 10; 14 entries
    _cut(wlog, 12)
    report = wlog.verify()
    # Nothing signed covers entries 11.. : the cut cannot be proven, but verify says how much is exposed.
    assert report.ok and report.entries == 12 and report.after_witnessed == 2


def test_a_cut_before_a_witnessed_checkpoint_fails_even_with_the_stored_checkpoints_deleted(wlog, make_event):
    _fill(wlog, make_event, 12)
    _cut(wlog, 8)
    _drop_checkpoints(wlog, above=5)
    report = wlog.verify()
    assert not report.ok
    assert any(p.index == 8 and "truncated" in p.what and "witness" in p.what for p in report.problems)
    assert any(p.checkpoint_size == 10 and "deleted from the database" in p.what for p in report.problems)
    # The database alone (no witness consulted) cannot tell: that is what witnesses are for.
    assert wlog.verify(witnesses=()).ok


def test_cutting_back_to_exactly_a_checkpoint_and_dropping_the_later_ones_fails(wlog, make_event):
    _fill(wlog, make_event, 12)
    _cut(wlog, 5)
    _drop_checkpoints(wlog, above=5)
    report = wlog.verify()
    assert not report.ok
    assert any(p.index == 5 and "truncated" in p.what and "witness" in p.what for p in report.problems)


def test_deleting_a_stored_checkpoint_is_caught_by_the_entry_that_recorded_it(db, keys, make_event):
    log = AuditLog(db, keys, checkpoint_every=5)  # no witness at all
    _fill(log, make_event, 12)
    with log.db.unit_of_work() as s:
        s.execute(delete(AuditCheckpointRow).where(AuditCheckpointRow.tree_size == 5))
    report = log.verify()
    assert not report.ok
    assert report.first.checkpoint_size == 5 and "entry 5 records" in report.first.what
    assert "deleted" in report.first.what


def test_deleting_the_latest_stored_checkpoint_is_caught(wlog, make_event):
    _fill(wlog, make_event, 12)
    _drop_checkpoints(wlog, above=5)
    report = wlog.verify()
    assert not report.ok
    whats = [p.what for p in report.problems if p.checkpoint_size == 10]
    assert any("entry 10 records" in w for w in whats)  # from the log itself
    assert any("deleted from the database" in w for w in whats)  # from the witness
    assert not wlog.verify(witnesses=()).ok  # the log alone still tells


def test_a_rewrite_re_signed_with_the_key_is_caught_by_the_witness(wlog, make_event, keys):
    _fill(wlog, make_event, 12)
    # The forger holds the signing key: deletes everything and rebuilds a different history, re-signed.
    _cut(wlog, 0)
    _drop_checkpoints(wlog)
    forger = AuditLog(wlog.db, keys, checkpoint_every=5)  # publishes nowhere
    for i in range(16):
        forger.record(make_event(query_fingerprint=f"fp-{i:04d}", user_id="u-innocent"))
    assert forger.verify().ok  # consistent in itself
    report = wlog.verify()
    assert not report.ok
    assert any(p.checkpoint_size == 10 and "witness" in p.what for p in report.problems)


def test_a_forged_checkpoint_planted_at_the_witnessed_size_does_not_pass(wlog, make_event, other_keys):
    _fill(wlog, make_event, 12)
    _cut(wlog, 10)
    _drop_checkpoints(wlog, above=5)
    with wlog.db.unit_of_work() as s:
        forged = sign_checkpoint(Checkpoint(wlog.origin, 10, b"\x44" * 32, utcnow()), other_keys.audit_signing_key())
        s.add(AuditCheckpointRow(tree_size=10, root_hash=forged.root_hash, at=forged.at, origin=wlog.origin,
                                 note=forged.note, frontier=b""))
    assert not wlog.verify().ok


def test_checkpoints_on_a_timer_cover_entries_recorded_inside_a_callers_transaction(db, keys, make_event,
                                                                                    witness_file):
    witness_file.parent.mkdir()
    log = AuditLog(db, keys, checkpoint_every=None, checkpoint_seconds=0.2, witnesses=(FileWitness(witness_file),))
    timer = Checkpointer(log, tick=0.05).start()
    try:
        with log.db.unit_of_work() as s:
            log.record(make_event(at=utcnow()), session=s)  # no count-based checkpoint on this path
        deadline = time.time() + 10
        while not witness_file.exists() and time.time() < deadline:
            time.sleep(0.05)
    finally:
        timer.stop()
    notes = read_witness_file(witness_file)
    assert notes and int(notes[-1].split("\n")[1]) == 1
    # The entry recording that checkpoint is not itself a reason for another one.
    assert log.maybe_checkpoint() is None


# ---- a real HTTP witness -----------------------------------------------------------------------------------


@pytest.fixture
def http_witness(tmp_path, keys, live_server_factory):
    server = live_server_factory(witness_app(tmp_path / "http-witness.jsonl", keys.audit_verify_key()))
    yield f"{server.url}/checkpoints"
    server.stop()


def test_an_http_witness_catches_a_cut_and_refuses_unsigned_notes(db, keys, make_event, http_witness, other_keys):
    log = AuditLog(db, keys, checkpoint_every=5, witnesses=(HttpWitness(http_witness),))
    _fill(log, make_event, 12)
    assert httpx.get(http_witness).text.split("\n")[1] == "10"
    assert log.verify().ok
    forged = sign_checkpoint(Checkpoint(log.origin, 99, b"\x55" * 32, utcnow()), other_keys.audit_signing_key())
    assert httpx.post(http_witness, content=forged.note).status_code == 400
    assert httpx.post(http_witness, content=b"x" * 10_000).status_code == 413
    _cut(log, 9)
    _drop_checkpoints(log, above=5)
    report = log.verify()
    assert not report.ok
    assert any(p.index == 9 and "truncated" in p.what and "witness url" in p.what for p in report.problems)


def test_a_witness_that_is_down_does_not_stop_recording_and_is_caught_up_later(db, keys, make_event, tmp_path,
                                                                               live_server_factory):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here yet
    url = f"http://127.0.0.1:{port}/checkpoints"
    log = AuditLog(db, keys, checkpoint_every=5, witnesses=(HttpWitness(url, timeout=2),))
    _fill(log, make_event, 6)  # the checkpoint at 5 is made and stored; publishing fails
    assert log.publish_failures and "publishing failed" in log.publish_failures[0]
    report = log.verify()
    assert not report.ok and "cannot be read" in report.first.what  # a silenced witness fails verification
    # The witness comes back (on that port) and the next tick publishes the latest checkpoint.
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(witness_app(tmp_path / "w.jsonl"), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 10
        while not server.started and time.time() < deadline:
            time.sleep(0.02)
        assert log.publish_pending() == []
        assert httpx.get(url).text.split("\n")[1] == "5"
        assert log.verify().ok
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# ---- the command line --------------------------------------------------------------------------------------


def test_cli_verify_reports_exposure_and_fails_when_shorter_than_a_witness(tmp_path, monkeypatch, make_event):
    from registry.cli.audit import audit_app
    from registry.config import load_settings
    from registry.keys import create_key_dir
    from registry.store.db import Base, Database
    from registry.store.tables.audit import AUDIT_TABLES

    witness = tmp_path / "w.jsonl"
    monkeypatch.setenv("REGISTRY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REGISTRY_AUDIT_WITNESS_FILES", str(witness))
    monkeypatch.setenv("REGISTRY_AUDIT_CHECKPOINT_EVERY", "4")
    for name in ("REGISTRY_DATABASE_URL", "REGISTRY_KEY_DIR", "REGISTRY_AUDIT_WITNESS_URLS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    settings.home.mkdir(parents=True)
    keys = create_key_dir(settings.key_dir)
    db = Database(settings.database_url)
    Base.metadata.create_all(db.engine, tables=AUDIT_TABLES)
    from registry.services.context import audit_log_for

    log = audit_log_for(settings, db, keys)
    _fill(log, make_event, 6)  # checkpoint at 4 (published), entry 4 records it, 7 entries in all
    runner = CliRunner()
    result = runner.invoke(audit_app, ["verify"])
    assert result.exit_code == 0, result.output
    assert "3 entries after the last witnessed checkpoint (size 4)" in result.output.replace("\n", " ")
    _cut(log, 3)
    _drop_checkpoints(log)
    result = runner.invoke(audit_app, ["verify"])
    assert result.exit_code == 1
    assert "FAILED" in result.output and "truncated" in result.output and "Traceback" not in result.output
    # Without the witness the same database verifies: the message says what that means.
    monkeypatch.setenv("REGISTRY_AUDIT_WITNESS_FILES", "")
    result = runner.invoke(audit_app, ["verify"])
    assert result.exit_code == 0 and "no witness consulted" in result.output.replace("\n", " ")
    db.dispose()


def test_the_verifier_of_a_bundle_consults_witnesses_too(wlog, make_event, tmp_path, keys, witness_file):
    from registry.cli.audit import audit_app
    from registry.keys import AUDIT_PUBLIC_FILE

    _fill(wlog, make_event, 12)
    bundle = tmp_path / "bundle.jsonl"
    _cut(wlog, 8)
    _drop_checkpoints(wlog, above=5)
    wlog.export_bundle(bundle)
    result = CliRunner().invoke(audit_app, ["verify", "--bundle", str(bundle), "--public-key",
                                            str(keys.key_dir / AUDIT_PUBLIC_FILE), "--witness", str(witness_file)])
    assert result.exit_code == 1 and "truncated" in result.output
