"""Group commit for the audit log: appenders that arrive together are written in one transaction.

The log is one hash chain, so appends are serial by nature: each entry names the previous one's hash. Done
one transaction per event, concurrent appenders queue for the chain's end and each pays a commit. Here an
appender puts its events in the process's queue; if no one is writing, it becomes the writer: it takes all
that is waiting (up to `MAX_BATCH` events, its own among them), appends them in one transaction holding the
chain (a transaction advisory lock on PostgreSQL, `BEGIN IMMEDIATE` on SQLite, so the writers of several
processes take turns instead of colliding on the index), commits, and only then tells each appender its
indexes. Those who arrived meanwhile are the next batch, written by one of them. An answer therefore means
"committed": a crash loses only events whose appenders were still waiting, and none of them was told that
its event was recorded. One appender alone writes its own event at once: no hand-over to another thread.

The writer uses a connection of its own (not one from the request threads' pool): an appender that holds a
pool connection while it waits cannot starve the writer. It is closed after `IDLE_SECONDS` without appends.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from registry.audit.event import AuditEvent
from registry.store.db import Database

MAX_BATCH = 1000
MAX_ATTEMPTS = 200
IDLE_SECONDS = 2.0
log = logging.getLogger("registry.audit")

AppendBatch = Callable[[Connection, list[AuditEvent]], tuple[list[int], bool]]


class WriterError(RuntimeError):
    """The writer could not append (too much contention, or the database refused)."""


@dataclass
class _Request:
    events: list[AuditEvent]
    done: bool = False
    wake: threading.Event = field(default_factory=threading.Event)
    indexes: list[int] = field(default_factory=list)
    crossed: bool = False
    error: BaseException | None = None


def lock_chain(conn: Connection) -> None:
    """Hold the end of the chain for this transaction, so that no other writer appends meanwhile."""
    if conn.dialect.name == "postgresql":
        # Per schema: tests and deployments that share a database server keep separate chains.
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :name))"),
                     {"name": "/audit-chain"})
    else:
        # SQLite: take the write lock before reading the last entry (a deferred transaction that read first
        # would fail with a stale snapshot once another connection wrote).
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class GroupWriter:
    def __init__(self, url: str, append_batch: AppendBatch):
        self.url = url
        self.append_batch = append_batch
        self._queue: deque[_Request] = deque()
        self._lock = threading.Lock()
        self._writing = False
        self._db: Database | None = None
        self._last_used = time.monotonic()
        _idle_closer.watch(self)

    def append(self, events: list[AuditEvent]) -> tuple[list[int], bool]:
        """Append `events` (none: just chain what callers committed) and wait until they are committed.
        Returns their indexes and whether this batch reached a multiple of the checkpoint interval."""
        request = _Request(list(events))
        with self._lock:
            self._queue.append(request)
            leading = not self._writing
            self._writing = True
        if not leading:
            request.wake.wait()  # woken when written, or when handed the next batch to write
        while not request.done:
            with self._lock:
                batch: list[_Request] = []
                n = 0
                while self._queue and (not batch or n + len(self._queue[0].events) <= MAX_BATCH):
                    batch.append(self._queue.popleft())
                    n += len(batch[-1].events)
            self._write(batch)
            with self._lock:
                self._last_used = time.monotonic()
                if request.done:
                    if self._queue:
                        self._queue[0].wake.set()  # the first one waiting writes the next batch
                    else:
                        self._writing = False
        if request.error is not None:
            raise WriterError(f"the audit log could not append: {type(request.error).__name__}") \
                from request.error
        return request.indexes, request.crossed

    def close(self) -> None:
        """Close the writer's connection once idle (a later append opens it again)."""
        while True:
            with self._lock:
                if not self._writing:
                    if self._db is not None:
                        self._db.dispose()
                        self._db = None
                    return
            time.sleep(0.01)

    def close_if_idle(self, seconds: float) -> None:
        with self._lock:
            if self._db is not None and not self._writing and time.monotonic() - self._last_used > seconds:
                self._db.dispose()
                self._db = None

    def _write(self, batch: list[_Request]) -> None:
        events = [e for r in batch for e in r.events]
        try:
            indexes, crossed = self._with_retries(events)
        except BaseException as e:  # noqa: BLE001 - every waiting appender hears of it, none waits forever
            log.error("audit append failed: %s", type(e).__name__)
            for r in batch:
                r.error = e
                r.done = True
                r.wake.set()
            return
        pos, told = 0, False
        for r in batch:
            r.indexes = indexes[pos: pos + len(r.events)]
            pos += len(r.events)
            if crossed and not told:  # one appender makes the checkpoint that is due
                r.crossed = told = True
            r.done = True
            r.wake.set()

    def _with_retries(self, events: list[AuditEvent]) -> tuple[list[int], bool]:
        if self._db is None:
            self._db = Database(self.url, pool_size=1)
        for n in range(MAX_ATTEMPTS):
            try:
                with self._db.engine.connect() as conn:
                    lock_chain(conn)
                    result = self.append_batch(conn, events)
                    conn.commit()  # leaving the block without it (an exception) rolls back
                    return result
            except IntegrityError:
                pass  # an appender that does not take the lock (an older version) took this index: read again
            except OperationalError as e:
                # SQLite: "database is locked" after the busy timeout; a fresh transaction can try again.
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
            time.sleep(random.uniform(0, 0.002 * min(n + 1, 10)))
        raise WriterError(f"could not append after {MAX_ATTEMPTS} attempts (too much contention)")


class _IdleCloser:
    """One daemon thread per process that closes the connections of writers left idle."""

    def __init__(self) -> None:
        self._writers: weakref.WeakSet[GroupWriter] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, writer: GroupWriter) -> None:
        with self._lock:
            self._writers.add(writer)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-writer-idle", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(IDLE_SECONDS)
            with self._lock:
                writers = list(self._writers)
            for writer in writers:
                writer.close_if_idle(IDLE_SECONDS)


_idle_closer = _IdleCloser()
