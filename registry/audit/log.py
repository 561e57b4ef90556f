"""The stored audit log: appending events, making signed checkpoints, proofs, verification and export.

Storage only: hashing, proofs and signatures are the pure functions of `merkle`, `event`, `checkpoint` and
`verify`. How appends stay correct under concurrency: every append goes through the process's one writer
thread (`writer.py`, group commit), which appends a batch in one transaction while holding the end of the chain
(an advisory lock on PostgreSQL, the write lock on SQLite), so writers of several processes take turns. The
leaf index is also the primary key of `audit_events`: should an appender ever race another for an index, the
insert fails and it tries again from a fresh read. So no two leaves share an index and the committed indexes
are always 0..n-1 without gaps.

An event recorded inside a caller's transaction is written to `audit_pending` there (it commits or rolls back
with the action, and waits on no other appender); right after the caller commits, the writer moves it into the
chain, and any later append (by any process) does so if this one died first.

Appends are cheap (one read by primary key, one multi-row insert per batch); roots are computed when a
checkpoint is made, from the previous checkpoint's stored frontier plus the leaf hashes since.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import nacl.signing
from sqlalchemy import delete, func, insert, select
from sqlalchemy import event as sqla_event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.audit.checkpoint import (
    DEFAULT_ORIGIN,
    Checkpoint,
    CheckpointError,
    attestation,
    open_checkpoint,
    sign_checkpoint,
)
from registry.audit.event import (
    AUDIT_CHECKPOINT,
    CURRENT_REQUEST_ID,
    FIRST_PREV,
    AuditEvent,
    LogEntry,
    entry_bytes,
    parse_entry,
)
from registry.audit.merkle import Frontier, consistency_proof, hash_leaf, inclusion_proof, root
from registry.audit.verify import Problem, Report, StoredEntry, verify_entries, write_bundle
from registry.audit.witness import Witness, WitnessError
from registry.audit.writer import GroupWriter, WriterError
from registry.keys import KeyRing
from registry.store.db import Database, utcnow
from registry.store.tables.audit import AuditCheckpointRow, AuditEventChildRow, AuditEventRow, AuditPendingRow

READ_CHUNK = 2000
log = logging.getLogger("registry.audit")


class AuditLogError(WriterError):
    """The log cannot do what was asked (e.g. a proof for a size it does not have, a broken stored log)."""


class AuditLog:
    """The registry's append-only access log.

    Services record every request that touches a child or the log with `record(event)`, or
    `record(event, session=s)` inside their own unit of work so the event commits (or not) with the action.
    """

    def __init__(
        self,
        db: Database,
        keys: KeyRing,
        origin: str = DEFAULT_ORIGIN,
        checkpoint_every: int | None = 1000,
        witnesses: tuple[Witness, ...] = (),
        checkpoint_seconds: float | None = None,
        attest_checkpoints: bool = True,
    ):
        """`checkpoint_every`: sign a checkpoint once that many entries are not yet covered by one;
        `checkpoint_seconds`: also once the oldest uncovered entry waited that long (see `maybe_checkpoint`,
        which the server's `Checkpointer` calls on a timer). `attest_checkpoints`: record each new checkpoint
        as an `audit-checkpoint` entry, so that deleting a stored checkpoint later is detected."""
        self.db = db
        self.keys = keys
        self.origin = origin
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds
        self.witnesses = witnesses
        self.attest_checkpoints = attest_checkpoints
        # Per witness (by position): the largest checkpoint size this process has published to it.
        self._published: dict[int, int] = {}
        self._publish_lock = threading.Lock()
        self.publish_failures: list[str] = []  # the last publication's failures, by witness name and reason
        self._writer = GroupWriter(db.url, self._append_batch)  # group commit: see writer.py

    # ---- appending ----------------------------------------------------------------------------------------
    def record(self, event: AuditEvent, session: Session | None = None) -> int | None:
        """Append an event. Without `session`, returns its leaf index once the event is committed in the chain.

        With `session`, the event is written in the caller's transaction (to `audit_pending`, which nothing else
        writes to, so it waits on no other appender) and commits or rolls back with the action. When the caller
        commits, the writer gives it its place in the chain before `commit()` returns; should the process die in
        between, the next append by any process chains it. Returns None: the index is known only then.
        """
        if event.request_id is None and (request_id := CURRENT_REQUEST_ID.get()) is not None:
            event = dataclasses.replace(event, request_id=request_id)
        if session is not None:
            session.execute(insert(AuditPendingRow.__table__),
                            [{"event": json.dumps(event.to_dict(), sort_keys=True)}])
            if not session.info.get(_FLUSH_AFTER_COMMIT) and not session.info.get(_CHAIN_LATER):
                session.info[_FLUSH_AFTER_COMMIT] = True
                sqla_event.listen(session, "after_commit", self._flush_after_commit, once=True)
            return None
        return self.record_many([event])[0]

    def record_many(self, events: list[AuditEvent]) -> list[int]:
        """Append events in this order, in one commit; returns their leaf indexes once committed."""
        current = CURRENT_REQUEST_ID.get()
        events = [dataclasses.replace(e, request_id=current) if e.request_id is None and current else e
                  for e in events]
        indexes, crossed = self._writer.append(events)
        if crossed and self.checkpoint_every:
            try:
                self.checkpoint()
            except AuditLogError as e:
                # The events are recorded; a broken stored checkpoint is for `registry audit verify` to report.
                log.error("automatic checkpoint failed: %s", type(e).__name__)
        return indexes

    def chain_later(self, session: Session) -> None:
        """The events recorded in `session` wait in `audit_pending` after its commit, until the caller's next
        `flush()` (or any later append) chains them: for a batch of many short write transactions (automatic
        merges), whose every chaining would be a commit of its own on another connection, which on SQLite also
        empties the batch connection's page cache. The caller flushes every few transactions and at its end."""
        session.info[_CHAIN_LATER] = True

    def flush(self) -> None:
        """Chain every event committed inside a caller's transaction and still waiting (after a crash, say)."""
        self.record_many([])

    def close(self) -> None:
        self._writer.close()

    def _flush_after_commit(self, session: Session) -> None:
        session.info.pop(_FLUSH_AFTER_COMMIT, None)
        try:
            self.flush()
        except Exception as e:  # noqa: BLE001 - the action is committed; its events wait in audit_pending
            log.error("chaining committed audit events failed (they wait for the next append): %s",
                      type(e).__name__)

    def _append_batch(self, s: Connection, events: list[AuditEvent]) -> tuple[list[int], bool]:
        """In the writer's transaction, holding the chain: first the waiting events committed by callers, then
        `events`. Returns the indexes of `events` and whether a multiple of `checkpoint_every` was reached."""
        # Core statements on the writer's connection: the ORM's bookkeeping would cost more than the inserts.
        waiting = s.execute(_WAITING).all()
        pending = [AuditEvent.from_dict(json.loads(row.event)) for row in waiting]
        last = s.execute(_LAST).first()
        first = 0 if last is None else last.leaf_index + 1
        prev = FIRST_PREV if last is None else last.leaf_hash
        rows, child_rows = [], []
        for index, event in enumerate(pending + events, start=first):
            raw = entry_bytes(index, prev, event)
            prev = hash_leaf(raw)  # SHA-256(0x00 || canonical entry bytes)
            rows.append(_row(index, prev, raw, event))
            child_rows += [{"leaf_index": index, "child": c} for c in event.children]
        if rows:
            s.execute(_INSERT_ENTRIES, rows)
        if child_rows:
            s.execute(_INSERT_CHILDREN, child_rows)
        if waiting:
            done = [r.pending_id for r in waiting]
            s.execute(delete(AuditPendingRow.__table__).where(AuditPendingRow.pending_id.in_(done)))
        end = first + len(rows)
        crossed = bool(self.checkpoint_every) and rows != [] and \
            (end // self.checkpoint_every) > (first // self.checkpoint_every)  # type: ignore[operator]
        return list(range(first + len(pending), end)), crossed

    # ---- reading ------------------------------------------------------------------------------------------
    def size(self) -> int:
        with self.db.unit_of_work() as s:
            last = s.scalar(select(func.max(AuditEventRow.leaf_index)))
        return 0 if last is None else last + 1

    def entry(self, index: int) -> LogEntry:
        with self.db.unit_of_work() as s:
            raw = s.scalar(select(AuditEventRow.entry).where(AuditEventRow.leaf_index == index))
        if raw is None:
            raise AuditLogError(f"no entry {index}")
        return parse_entry(raw)

    def leaf_hashes(self, size: int) -> list[bytes]:
        with self.db.unit_of_work() as s:
            hashes = list(
                s.scalars(
                    select(AuditEventRow.leaf_hash)
                    .where(AuditEventRow.leaf_index < size)
                    .order_by(AuditEventRow.leaf_index)
                )
            )
        if len(hashes) != size:
            raise AuditLogError(f"the log has {len(hashes)} of the first {size} entries")
        return hashes

    def stored_entries(self) -> Iterator[StoredEntry]:
        """(index, bytes, stored leaf hash) in index order, read in chunks."""
        with self.db.unit_of_work() as s:
            yield from _read_entries(s)

    def checkpoint_notes(self) -> list[tuple[int, str]]:
        with self.db.unit_of_work() as s:
            return [
                (r.tree_size, r.note)
                for r in s.execute(
                    select(AuditCheckpointRow.tree_size, AuditCheckpointRow.note).order_by(
                        AuditCheckpointRow.tree_size
                    )
                )
            ]

    def latest_checkpoint(self) -> Checkpoint | None:
        with self.db.unit_of_work() as s:
            note = s.scalar(
                select(AuditCheckpointRow.note).order_by(AuditCheckpointRow.tree_size.desc()).limit(1)
            )
        return None if note is None else open_checkpoint(note, self.keys.audit_verify_key(), self.origin)

    # ---- checkpoints --------------------------------------------------------------------------------------
    def checkpoint(self, publish: bool = True) -> Checkpoint:
        """Sign the current tree (size, root, time, origin) and store it; publish it to the witnesses.

        Starts from the previous checkpoint's frontier (after checking that checkpoint's signature and root), so
        the cost is the entries since then, not the whole log. Returns the latest checkpoint unchanged when no
        entry was added since. A new checkpoint is then recorded in the log itself (`audit-checkpoint`).
        A witness that cannot be reached does not stop the checkpoint: its failure is in `publish_failures`
        (and logged by witness and type), and `publish_pending` tries again.
        """
        self._writer.append([])  # events committed by callers and not yet chained are covered too
        cp, made = self._make_checkpoint()
        if made and self.attest_checkpoints:
            self._writer.append([self._attestation_event(cp)])
        if publish:
            self.publish(cp)
        return cp

    def _attestation_event(self, cp: Checkpoint) -> AuditEvent:
        return AuditEvent(
            action=AUDIT_CHECKPOINT, outcome="success", user_id="registry", role="system", agency="registry",
            purpose="audit-integrity", legal_basis="legal-obligation", decision="permit",
            reason_code="checkpoint-signed", query_fingerprint=attestation(cp.size, cp.root_hash), at=cp.at,
        )

    def publish(self, cp: Checkpoint) -> list[str]:
        """Publish `cp` to every witness that has not had it (or a larger one) from this process.
        Returns (and keeps in `publish_failures`) one line per witness that failed."""
        failures = []
        with self._publish_lock:
            for i, witness in enumerate(self.witnesses):
                if self._published.get(i, -1) >= cp.size:
                    continue
                try:
                    witness.publish(cp)
                    self._published[i] = cp.size
                except WitnessError as e:
                    failures.append(str(e))
                    log.warning("publishing checkpoint %d failed: %s", cp.size, e)
            self.publish_failures = failures
        return failures

    def publish_pending(self) -> list[str]:
        """Publish the latest stored checkpoint to each witness still behind it (after an outage)."""
        if not self.witnesses:
            return []
        latest = self.latest_checkpoint()
        return [] if latest is None else self.publish(latest)

    def pending(self) -> tuple[int, int, Checkpoint | None]:
        """(log size, size of the latest stored checkpoint, that checkpoint)."""
        latest = self.latest_checkpoint()
        return self.size(), latest.size if latest else 0, latest

    def maybe_checkpoint(self, now: float | None = None) -> Checkpoint | None:
        """Checkpoint when `checkpoint_every` entries, or entries older than `checkpoint_seconds`, are not
        yet covered by a signed checkpoint; returns the new checkpoint or None. Cheap when nothing is due."""
        size, covered, latest = self.pending()
        # The entry recording the latest checkpoint does not by itself call for another one.
        uncovered = size - covered - (1 if latest is not None and self.attest_checkpoints else 0)
        if uncovered <= 0:
            return None
        due = bool(self.checkpoint_every) and uncovered >= self.checkpoint_every  # type: ignore[operator]
        if not due and self.checkpoint_seconds is not None:
            oldest = self._time_of(covered + (1 if latest is not None and self.attest_checkpoints else 0))
            now_dt = utcnow() if now is None else dt_from_timestamp(now)
            due = oldest is not None and (now_dt - oldest).total_seconds() >= self.checkpoint_seconds
        return self.checkpoint() if due else None

    def _time_of(self, index: int):
        with self.db.unit_of_work() as s:
            return s.scalar(select(AuditEventRow.at).where(AuditEventRow.leaf_index == index))

    def _make_checkpoint(self) -> tuple[Checkpoint, bool]:
        verify_key = self.keys.audit_verify_key()
        try:
            with self.db.unit_of_work() as s:
                last = s.execute(
                    select(AuditCheckpointRow).order_by(AuditCheckpointRow.tree_size.desc()).limit(1)
                ).scalar_one_or_none()
                frontier = Frontier()
                if last is not None:
                    previous = open_checkpoint(last.note, verify_key, self.origin)
                    frontier = Frontier(last.tree_size, _split_hashes(last.frontier))
                    if previous.size != last.tree_size or frontier.root() != previous.root_hash:
                        raise AuditLogError(
                            f"the stored checkpoint at size {last.tree_size} does not match its "
                            "signed note: run `registry audit verify`"
                        )
                for index, leaf in s.execute(
                    select(AuditEventRow.leaf_index, AuditEventRow.leaf_hash)
                    .where(AuditEventRow.leaf_index >= frontier.size)
                    .order_by(AuditEventRow.leaf_index)
                ):
                    if index != frontier.size:
                        raise AuditLogError(f"entry {frontier.size} is missing: run `registry audit verify`")
                    frontier.append(leaf)
                if last is not None and frontier.size == last.tree_size:
                    return previous, False
                # Signs: origin, tree size, root hash, time (see checkpoint.py for the exact bytes).
                cp = sign_checkpoint(
                    Checkpoint(self.origin, frontier.size, frontier.root(), utcnow()),
                    self.keys.audit_signing_key(),
                )
                s.add(
                    AuditCheckpointRow(
                        tree_size=cp.size,
                        root_hash=cp.root_hash,
                        at=cp.at,
                        origin=cp.origin,
                        note=cp.note,
                        frontier=b"".join(frontier.hashes),
                    )
                )
            return cp, True
        except CheckpointError as e:
            raise AuditLogError(
                f"the latest stored checkpoint is not valid ({e}): run `registry audit verify`"
            ) from e
        except IntegrityError:
            # Another process signed this size at the same moment: theirs is as good as ours.
            latest = self.latest_checkpoint()
            assert latest is not None
            return latest, False

    # ---- proofs -------------------------------------------------------------------------------------------
    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        """Audit path for entry `index` in the tree of `tree_size` entries (default: the latest checkpoint)."""
        size = self._size_or_latest(tree_size)
        return inclusion_proof(index, size, self.leaf_hashes(size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the tree of `old_size` entries is a prefix of the tree of `new_size` (default: latest)."""
        size = self._size_or_latest(new_size)
        return consistency_proof(old_size, size, self.leaf_hashes(size))

    def root(self, tree_size: int) -> bytes:
        return root(self.leaf_hashes(tree_size))

    def _size_or_latest(self, tree_size: int | None) -> int:
        if tree_size is not None:
            return tree_size
        latest = self.latest_checkpoint()
        if latest is None:
            raise AuditLogError("no checkpoint yet: make one with `checkpoint()` or give a tree size")
        return latest.size

    # ---- verification and export --------------------------------------------------------------------------
    def verify(self, trusted_checkpoint: str | None = None, witnesses: tuple[Witness, ...] | None = None) -> Report:
        """Verify the stored log; also against every checkpoint the witnesses hold (default: this log's)."""
        return verify_log(
            self.db, self.keys.audit_verify_key(), origin=self.origin, trusted_checkpoint=trusted_checkpoint,
            witnesses=self.witnesses if witnesses is None else witnesses,
        )

    def export_bundle(self, path: Path) -> int:
        """Write the whole log, its checkpoints and the public key to one JSON-lines file; returns the size."""
        # Appends may continue meanwhile: count first, then write exactly that prefix and the checkpoints it covers.
        size = self.size()
        notes = [note for tree_size, note in self.checkpoint_notes() if tree_size <= size]
        entries = (e for e in self.stored_entries() if e[0] < size)
        write_bundle(Path(path), self.origin, self.keys.audit_verify_key(), notes, entries, size)
        return size


def verify_log(
    db: Database,
    public_key: nacl.signing.VerifyKey,
    *,
    origin: str | None = None,
    trusted_checkpoint: str | None = None,
    witnesses: tuple[Witness, ...] = (),
) -> Report:
    """Check the stored log against its stored checkpoints, the checkpoints the witnesses hold, and one kept
    outside if given.

    Beyond `verify_entries`, checks that each row's query columns and child links agree with its hashed bytes,
    so that a DPO's queries cannot be misled by edits to the columns alone.
    """
    witnessed, unreadable = read_witnesses(witnesses)
    with db.unit_of_work() as s:
        children: dict[int, set[str]] = {}
        columns: dict[int, dict[str, object]] = {}
        chunk_end = -1

        def load_chunk(start: int) -> None:
            nonlocal chunk_end
            children.clear()
            columns.clear()
            rows = (
                s.execute(
                    select(AuditEventRow)
                    .where(AuditEventRow.leaf_index >= start)
                    .order_by(AuditEventRow.leaf_index)
                    .limit(READ_CHUNK)
                )
                .scalars()
                .all()
            )
            for r in rows:
                columns[r.leaf_index] = {c: getattr(r, c) for c in _QUERY_COLUMNS}
            chunk_end = rows[-1].leaf_index if rows else start
            for idx, child in s.execute(
                select(AuditEventChildRow.leaf_index, AuditEventChildRow.child).where(
                    AuditEventChildRow.leaf_index >= start, AuditEventChildRow.leaf_index <= chunk_end
                )
            ):
                children.setdefault(idx, set()).add(child)
            s.expunge_all()

        def check_columns(index: int, entry: LogEntry) -> list[Problem]:
            if index > chunk_end or index not in columns:
                load_chunk(index)
            problems = []
            stored = columns.get(index, {})
            for name in _QUERY_COLUMNS:
                want = getattr(entry.event, name)
                if stored.get(name) != want:
                    problems.append(
                        Problem(
                            f"query column {name!r} says {stored.get(name)!r} but the signed "
                            f"entry says {want!r}",
                            index=index,
                        )
                    )
            if children.get(index, set()) != set(entry.event.children):
                problems.append(
                    Problem("the child links differ from the children named in the signed entry", index=index)
                )
            return problems

        report = verify_entries(
            _read_entries(s),
            _read_notes(s),
            public_key,
            origin=origin,
            trusted_checkpoint=trusted_checkpoint,
            witnessed=witnessed,
            on_entry=check_columns,
        )
        for problem in unreadable:
            report.add(problem)
        # The root column of each checkpoint row must agree with its signed note (the note is what counts).
        for r in s.execute(
            select(AuditCheckpointRow.tree_size, AuditCheckpointRow.root_hash, AuditCheckpointRow.note)
        ):
            try:
                cp = open_checkpoint(r.note, public_key, origin)
            except CheckpointError:
                continue  # already reported
            if bytes(r.root_hash) != cp.root_hash:
                report.add(
                    Problem("the root hash column differs from the signed note", checkpoint_size=r.tree_size)
                )
        # Child links pointing at entries that do not exist (or were deleted with their entry kept).
        orphans = s.scalars(
            select(AuditEventChildRow.leaf_index)
            .where(AuditEventChildRow.leaf_index.not_in(select(AuditEventRow.leaf_index)))
            .limit(5)
        ).all()
        for idx in orphans:
            report.add(Problem("child links remain for an entry that is not in the log", index=idx))
    return report


_QUERY_COLUMNS = (
    "at",
    "user_id",
    "role",
    "agency",
    "action",
    "purpose",
    "outcome",
    "decision",
    "query_fingerprint",
    "break_glass",
    "outside_caseload",
)


def read_witnesses(witnesses: tuple[Witness, ...]) -> tuple[list[tuple[str, str]], list[Problem]]:
    """(witness name, largest note) for each witness that holds one; a Problem for each that cannot be read.
    A witness that cannot be read fails the verification: silencing the witness must not hide a cut."""
    held: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for witness in witnesses:
        try:
            note = witness.latest_note()
        except WitnessError as e:
            problems.append(Problem(f"{e}: the log cannot be checked against it"))
            continue
        if note is not None:
            held.append((witness.name, note))
    return held, problems


def dt_from_timestamp(ts: float):
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC).replace(tzinfo=None)


def _read_entries(s: Session) -> Iterator[StoredEntry]:
    after = -1
    while True:
        rows = s.execute(
            select(AuditEventRow.leaf_index, AuditEventRow.entry, AuditEventRow.leaf_hash)
            .where(AuditEventRow.leaf_index > after)
            .order_by(AuditEventRow.leaf_index)
            .limit(READ_CHUNK)
        ).all()
        if not rows:
            return
        for r in rows:
            yield r.leaf_index, bytes(r.entry), bytes(r.leaf_hash)
        after = rows[-1].leaf_index


def _read_notes(s: Session) -> list[tuple[int | None, str]]:
    rows = s.execute(
        select(AuditCheckpointRow.tree_size, AuditCheckpointRow.note).order_by(AuditCheckpointRow.tree_size)
    ).all()
    return [(r.tree_size, r.note) for r in rows]


def _split_hashes(blob: bytes) -> list[bytes]:
    return [bytes(blob[i : i + 32]) for i in range(0, len(blob), 32)]


_FLUSH_AFTER_COMMIT = "registry.audit.flush_after_commit"
_CHAIN_LATER = "registry.audit.chain_later"
# The writer's statements, built once.
_WAITING = select(AuditPendingRow.pending_id, AuditPendingRow.event).order_by(AuditPendingRow.pending_id)
_LAST = select(AuditEventRow.leaf_index, AuditEventRow.leaf_hash).order_by(AuditEventRow.leaf_index.desc()).limit(1)
_INSERT_ENTRIES = insert(AuditEventRow.__table__)
_INSERT_CHILDREN = insert(AuditEventChildRow.__table__)


def _row(index: int, leaf: bytes, raw: bytes, event: AuditEvent) -> dict[str, object]:
    return {
        "leaf_index": index,
        "leaf_hash": leaf,
        "entry": raw,
        "at": event.at,
        "user_id": event.user_id,
        "role": event.role,
        "agency": event.agency,
        "action": event.action,
        "purpose": event.purpose,
        "outcome": event.outcome,
        "decision": event.decision,
        "query_fingerprint": event.query_fingerprint,
        "break_glass": event.break_glass,
        "outside_caseload": event.outside_caseload,
    }
