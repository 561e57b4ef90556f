"""Each way of tampering with the stored log is caught, and the report names where; a clean log verifies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from registry.audit.checkpoint import Checkpoint, sign_checkpoint
from registry.audit.event import entry_bytes, parse_entry
from registry.audit.log import AuditLog
from registry.audit.merkle import hash_leaf
from registry.audit.verify import read_trusted_checkpoint, verify_bundle
from registry.audit.witness import FileWitness, read_witness_file
from registry.keys import AUDIT_PUBLIC_FILE, load_audit_public_key
from registry.store.tables.audit import AuditCheckpointRow, AuditEventChildRow, AuditEventRow

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def filled(log: AuditLog, make_event) -> AuditLog:
    """12 events, checkpoints at 5 and 10, two more events after the last checkpoint."""
    for i in range(12):
        log.record(make_event(query_fingerprint=f"fp-{i:04d}", children=(f"CR-CHILD-{i:04d}",)))
        if i in (4, 9):
            log.checkpoint()
    return log


def _raw(log: AuditLog, index: int) -> bytes:
    with log.db.unit_of_work() as s:
        return bytes(s.get(AuditEventRow, index).entry)


def _set(log: AuditLog, index: int, **values: object) -> None:
    with log.db.unit_of_work() as s:
        s.execute(update(AuditEventRow).where(AuditEventRow.leaf_index == index).values(**values))


def test_a_clean_log_verifies(filled):
    report = filled.verify()
    assert report.ok, report.problems
    assert report.entries == 12 and report.checkpoints == 2 and report.latest.size == 10


def test_editing_a_field_of_the_stored_bytes_is_caught_at_that_entry(filled):
    raw = _raw(filled, 3).replace(b'"outcome":"no-match"', b'"outcome":"success"')
    _set(filled, 3, entry=raw)
    report = filled.verify()
    assert not report.ok
    assert report.first.index == 3 and "leaf hash" in report.first.what


def test_editing_bytes_and_rehashing_is_caught_by_the_next_entry_and_the_checkpoint(filled):
    raw = _raw(filled, 3).replace(b'"outcome":"no-match"', b'"outcome":"success"')
    _set(filled, 3, entry=raw, leaf_hash=hash_leaf(raw), outcome="success")
    report = filled.verify()
    assert report.first.index == 4 and "entry 3 was changed" in report.first.what
    assert any(p.checkpoint_size == 5 and "0..4" in p.what for p in report.problems)


def test_editing_only_a_query_column_is_caught(filled):
    _set(filled, 7, user_id="u-someone-else")
    report = filled.verify()
    assert report.first.index == 7 and "user_id" in report.first.what


def test_deleting_an_event_is_caught_where_the_gap_is(filled):
    with filled.db.unit_of_work() as s:
        s.execute(delete(AuditEventChildRow).where(AuditEventChildRow.leaf_index == 6))
        s.execute(delete(AuditEventRow).where(AuditEventRow.leaf_index == 6))
    report = filled.verify()
    assert report.first.index == 6 and "missing" in report.first.what


def test_reordering_two_events_is_caught_at_the_first_moved_one(filled):
    a, b = _raw(filled, 2), _raw(filled, 8)
    ha, hb = hash_leaf(a), hash_leaf(b)
    _set(filled, 2, entry=b, leaf_hash=hb)
    _set(filled, 8, entry=a, leaf_hash=ha)
    report = filled.verify()
    assert report.first.index == 2 and "says it is entry 8" in report.first.what


def test_reordering_and_renumbering_consistently_is_still_caught_by_the_links(filled):
    # A careful forger rewrites the index inside each moved entry too (keeping each one's old prev link).
    e2, e8 = parse_entry(_raw(filled, 2)), parse_entry(_raw(filled, 8))
    new2 = entry_bytes(2, e2.prev_hash, e8.event)
    new8 = entry_bytes(8, e8.prev_hash, e2.event)
    _set(filled, 2, entry=new2, leaf_hash=hash_leaf(new2))
    _set(filled, 8, entry=new8, leaf_hash=hash_leaf(new8))
    report = filled.verify()
    assert not report.ok
    assert report.first.index == 2  # its query columns no longer match: the rows were not moved with it
    assert any(p.index == 3 and "entry 2 was changed" in p.what for p in report.problems)


def test_truncating_the_log_is_caught_against_the_last_checkpoint(filled):
    with filled.db.unit_of_work() as s:
        s.execute(delete(AuditEventChildRow).where(AuditEventChildRow.leaf_index >= 8))
        s.execute(delete(AuditEventRow).where(AuditEventRow.leaf_index >= 8))
    report = filled.verify()
    assert report.first.index == 8 and "truncated" in report.first.what and "8..9" in report.first.what


def test_truncating_after_deleting_the_checkpoints_is_caught_by_a_witness(filled, tmp_path, keys):
    witness = tmp_path / "witness.jsonl"
    FileWitness(witness).publish(filled.checkpoint())  # size 12, published outside the database
    with filled.db.unit_of_work() as s:
        s.execute(delete(AuditCheckpointRow))
        s.execute(delete(AuditEventChildRow).where(AuditEventChildRow.leaf_index >= 9))
        s.execute(delete(AuditEventRow).where(AuditEventRow.leaf_index >= 9))
    assert filled.verify().ok  # the database alone cannot tell
    report = filled.verify(trusted_checkpoint=read_trusted_checkpoint(witness))
    assert report.first.index == 9 and "trusted checkpoint" in report.first.what


def test_rewriting_the_whole_log_is_caught_by_a_witness(filled, tmp_path, make_event):
    witness = tmp_path / "witness.jsonl"
    FileWitness(witness).publish(filled.checkpoint())
    # The forger (who holds the signing key) rebuilds the log from scratch with entry 0 changed.
    with filled.db.unit_of_work() as s:
        s.execute(delete(AuditCheckpointRow))
        s.execute(delete(AuditEventChildRow))
        s.execute(delete(AuditEventRow))
    for i in range(12):
        filled.record(make_event(query_fingerprint=f"fp-{i:04d}", user_id="u-innocent"))
    filled.checkpoint()
    assert filled.verify().ok
    report = filled.verify(trusted_checkpoint=read_trusted_checkpoint(witness))
    assert report.first.checkpoint_size == 12 and "trusted" in report.first.what


def test_replacing_a_checkpoint_is_caught(filled, keys):
    with filled.db.unit_of_work() as s:
        row = s.get(AuditCheckpointRow, 5)
        forged = Checkpoint(row.origin, 5, b"\x11" * 32, row.at)
        lines = row.note.split("\n")
        lines[2] = forged.body().split("\n")[2]  # a different root under the old signature
        row.note = "\n".join(lines)
    report = filled.verify()
    assert report.first.checkpoint_size == 5 and "does not verify" in report.first.what


def test_a_checkpoint_signed_with_another_key_is_caught(filled, other_keys):
    with filled.db.unit_of_work() as s:
        row = s.get(AuditCheckpointRow, 10)
        forged = sign_checkpoint(
            Checkpoint(row.origin, 10, b"\x22" * 32, row.at), other_keys.audit_signing_key()
        )
        row.note, row.root_hash = forged.note, forged.root_hash
    report = filled.verify()
    assert report.first.checkpoint_size == 10 and "not signed by the audit key" in report.first.what


def test_a_checkpoint_column_edited_apart_from_its_note_is_caught(filled):
    with filled.db.unit_of_work() as s:
        s.get(AuditCheckpointRow, 5).root_hash = b"\x33" * 32
    report = filled.verify()
    assert report.first.checkpoint_size == 5 and "root hash column" in report.first.what


def test_the_file_witness_keeps_every_published_checkpoint(filled, tmp_path, keys, make_event):
    witness = tmp_path / "witness.jsonl"
    log = AuditLog(filled.db, keys, witnesses=(FileWitness(witness),), checkpoint_every=None)
    cp = log.checkpoint()
    for _ in range(3):
        log.record(make_event(action="read", outcome="success"))
    cp2 = log.checkpoint()
    assert read_witness_file(witness) == [cp.note, cp2.note]
    assert read_trusted_checkpoint(witness) == cp2.note
    assert log.verify(trusted_checkpoint=read_trusted_checkpoint(witness)).ok


def test_http_witness_posts_the_note(filled, tmp_path):
    import http.server
    import threading

    from registry.audit.witness import HttpWitness

    received: list[bytes] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cp = filled.checkpoint()
        HttpWitness(f"http://127.0.0.1:{server.server_port}/checkpoints").publish(cp)
    finally:
        server.shutdown()
    assert received == [cp.note.encode("utf-8")]


# ---- the exported bundle, verified with the public key only -----------------------------------------------


def _run_verifier(*args: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registry.audit.verify_bundle", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},  # no REGISTRY_* keys or database settings
    )


def test_an_exported_bundle_verifies_in_a_fresh_process_with_only_the_public_key(filled, keys, tmp_path):
    filled.checkpoint()
    bundle = tmp_path / "audit.jsonl"
    assert filled.export_bundle(bundle) == 12
    public_only = tmp_path / "dpo"
    public_only.mkdir()
    (public_only / AUDIT_PUBLIC_FILE).write_bytes((keys.key_dir / AUDIT_PUBLIC_FILE).read_bytes())
    result = _run_verifier(bundle, public_only / AUDIT_PUBLIC_FILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 12 entries")


def test_a_tampered_bundle_fails_in_a_fresh_process_and_names_the_entry(filled, keys, tmp_path):
    bundle = tmp_path / "audit.jsonl"
    filled.export_bundle(bundle)
    lines = bundle.read_text().splitlines()
    i = next(n for n, line in enumerate(lines) if '"index": 4,' in line)
    lines[i] = lines[i].replace("u-caseworker-1", "u-caseworker-9")
    bundle.write_text("\n".join(lines) + "\n")
    result = _run_verifier(bundle, keys.key_dir / AUDIT_PUBLIC_FILE)
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED at entry 4")


def test_a_bundle_verified_with_another_public_key_fails(filled, other_keys, tmp_path):
    bundle = tmp_path / "audit.jsonl"
    filled.export_bundle(bundle)
    report = verify_bundle(bundle, load_audit_public_key(other_keys.key_dir / AUDIT_PUBLIC_FILE))
    assert not report.ok
    assert "different public key" in report.first.what
    assert any("not signed by the audit key" in p.what for p in report.problems)


def test_a_bundle_with_a_line_removed_fails(filled, keys, tmp_path):
    bundle = tmp_path / "audit.jsonl"
    filled.export_bundle(bundle)
    lines = bundle.read_text().splitlines()
    del lines[next(n for n, line in enumerate(lines) if '"index": 8,' in line)]
    bundle.write_text("\n".join(lines) + "\n")
    report = verify_bundle(bundle, keys.audit_verify_key())
    assert report.first.index == 8 and "missing" in report.first.what
