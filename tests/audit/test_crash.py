"""Nothing acknowledged is lost when a process appending events is killed with SIGKILL (kill -9) mid-run.

A child process appends from several threads at once, through the group-commit writer (`record(event)`) and
inside its own transactions (`record(event, session=s)`), and writes each event's fingerprint to a file once
`record` (or the caller's commit) has returned. The test kills it with SIGKILL while it appends, then opens the
log as the next process would: the chain verifies, every acknowledged event is in it exactly once, and events
the dead process committed inside its transactions but had not chained yet are chained by the next append.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from pathlib import Path

from registry.audit.event import AuditEvent, parse_entry
from registry.audit.log import AuditLog
from registry.keys import load_keys
from registry.store.db import Database

THREADS = 6


def _event(fingerprint: str) -> AuditEvent:
    return AuditEvent(action="lookup", outcome="no-match", user_id="u-crash", role="caseworker", agency="agency-a",
                      purpose="deduplication", legal_basis="consent:c-1", decision="permit", reason_code="ok",
                      query_fingerprint=fingerprint)


def _append_until_killed(url: str, key_dir: str, acks: str) -> None:
    import threading

    log = AuditLog(Database(url), load_keys(Path(key_dir)), checkpoint_every=None, attest_checkpoints=False)
    fd = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def worker(n: int) -> None:
        for i in range(100_000):
            fp = f"fp-{n}-{i}"
            if n % 2:
                with log.db.unit_of_work() as s:  # inside a caller's transaction: acknowledged by the commit
                    log.record(_event(fp), session=s)
            else:
                log.record(_event(fp))
            os.write(fd, f"{fp}\n".encode())  # one write per line: whole lines even when killed

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_a_process_killed_while_appending_loses_nothing_it_acknowledged(db, keys, tmp_path):
    acks = tmp_path / "acks.txt"
    proc = multiprocessing.get_context("spawn").Process(
        target=_append_until_killed, args=(db.url, str(keys.key_dir), str(acks)))
    proc.start()
    deadline = time.time() + 120
    while time.time() < deadline and (not acks.exists() or acks.read_text().count("\n") < 400):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    assert proc.exitcode == -signal.SIGKILL

    acknowledged = [line for line in acks.read_text().splitlines() if line]
    assert len(acknowledged) >= 400, "the child did not get going"
    log = AuditLog(db, keys, checkpoint_every=None, attest_checkpoints=False)
    log.flush()  # what the next process does on its first append: chain what the dead one committed
    entries = [parse_entry(raw) for _, raw, _ in log.stored_entries()]
    assert [e.index for e in entries] == list(range(len(entries)))
    in_log = Counter(e.event.query_fingerprint for e in entries)
    assert not [fp for fp, n in in_log.items() if n > 1], "an event was chained twice"
    missing = [fp for fp in acknowledged if fp not in in_log]
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {missing[:3]}"
    log.checkpoint()
    assert log.verify().ok
    log.close()
