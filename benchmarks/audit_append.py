"""Audit log append throughput and latency: SQLite file, and PostgreSQL when reachable.

    .venv/bin/python benchmarks/audit_append.py [--events 5000] [--runs 5] [--callers 50]
                                                [--postgres-url URL | --no-postgres]

For each backend, on a fresh database: appends per second with `AuditLog.record(event)` from --callers threads
at once (as the server's request threads append; the writer commits what they hand it together: group
commit), the same with the events recorded inside each caller's own transaction (`record(event, session=s)`,
one event per transaction, chained when it commits), appends per second and latency of one caller alone
(each call waits for its commit), the latency that `record(event, session=s)` adds inside a caller's open
transaction, and the time to sign a checkpoint over the events of one run. Medians over --runs runs. Prints
a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from registry.audit.event import AuditEvent  # noqa: E402
from registry.audit.log import AuditLog  # noqa: E402
from registry.keys import create_key_dir  # noqa: E402
from registry.store.db import Base, Database  # noqa: E402
from registry.store.tables.audit import AUDIT_TABLES  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _event(i: int) -> AuditEvent:
    return AuditEvent(
        action="lookup" if i % 3 else "read",
        outcome="no-match" if i % 3 else "success",
        user_id=f"u-{i % 40}",
        role="caseworker",
        agency=f"agency-{i % 7}",
        purpose="deduplication",
        legal_basis="consent:c-1",
        decision="permit",
        reason_code="consent-valid",
        children=() if i % 3 else (f"CR-BNCH-{i % 9999:04d}-X",),
        query_fingerprint=f"{i:040x}",
    )


def _concurrently(callers: int, n: int, append) -> float:  # type: ignore[no-untyped-def]
    """Events per second when `callers` threads call `append(i)` for n events in all."""
    barrier = threading.Barrier(callers + 1)

    def caller(c: int) -> None:
        barrier.wait()
        for i in range(c, n, callers):
            append(i)

    threads = [threading.Thread(target=caller, args=(c,)) for c in range(callers)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return n / (time.perf_counter() - start)


def _one_run(db: Database, keys, n: int, callers: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    log = AuditLog(db, keys, checkpoint_every=None)
    concurrent = _concurrently(callers, n, lambda i: log.record(_event(i)))

    def in_own_transaction(i: int) -> None:
        with db.unit_of_work() as s:
            log.record(_event(i), session=s)

    in_transactions = _concurrently(callers, n, in_own_transaction)
    alone = max(200, n // 10)
    latencies = []
    start = time.perf_counter()
    for i in range(alone):
        t = time.perf_counter()
        log.record(_event(i))
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - start
    t = time.perf_counter()
    log.checkpoint()
    checkpoint_s = time.perf_counter() - t
    # Inside a caller's transaction: what recording adds to a unit of work (committed in batches of 50).
    in_session = []
    for b in range(alone // 50):
        with db.unit_of_work() as s:
            for i in range(50):
                t = time.perf_counter()
                log.record(_event(b * 50 + i), session=s)
                in_session.append(time.perf_counter() - t)
    size = log.size()
    assert size == 2 * n + 2 * alone + 1 and log.verify().ok, "events lost or the chain is broken"
    log.close()
    return {
        "concurrent_per_s": concurrent,
        "in_transactions_per_s": in_transactions,
        "alone_per_s": alone / elapsed,
        "latency_ms": statistics.median(latencies) * 1000,
        "in_session_ms": statistics.median(in_session) * 1000 if in_session else float("nan"),
        "checkpoint_ms": checkpoint_s * 1000,
        "size": size,
    }


def _sqlite(tmp: Path):  # type: ignore[no-untyped-def]
    path = tmp / f"audit-{uuid.uuid4().hex[:8]}.db"
    db = Database(f"sqlite:///{path}")
    Base.metadata.create_all(db.engine, tables=AUDIT_TABLES)
    return db, lambda: db.dispose()


def _postgres(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    plain = url.replace("+psycopg", "")
    schema = f"audit_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    db = Database(f"{url}?options=-csearch_path%3D{schema}")
    Base.metadata.create_all(db.engine, tables=AUDIT_TABLES)

    def cleanup() -> None:
        db.dispose()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    return db, cleanup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres-url", default=PG_URL)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        keys = create_key_dir(tmp / "keys")
        backends = [("SQLite (file, WAL)", lambda: _sqlite(tmp))]
        if not args.no_postgres:
            try:
                import psycopg

                psycopg.connect(args.postgres_url.replace("+psycopg", ""), connect_timeout=2).close()
                backends.append(("PostgreSQL (local)", lambda: _postgres(args.postgres_url)))
            except Exception as e:  # noqa: BLE001
                print(f"PostgreSQL not reachable, skipped: {e}", file=sys.stderr)

        print(f"{args.events} events per run from {args.callers} callers at once, median of {args.runs} runs, "
              "fresh database per run\n")
        print(f"| backend | appends/s, {args.callers} callers | the same, each in its own transaction | "
              "appends/s, one caller | latency per record() | added inside caller's transaction | checkpoint |")
        print("|---|---|---|---|---|---|---|")
        for name, make in backends:
            results = []
            for _ in range(args.runs):
                db, cleanup = make()
                try:
                    results.append(_one_run(db, keys, args.events, args.callers))
                finally:
                    cleanup()
            med = {k: statistics.median(r[k] for r in results) for k in results[0]}
            print(
                f"| {name} | {med['concurrent_per_s']:.0f} | {med['in_transactions_per_s']:.0f} | "
                f"{med['alone_per_s']:.0f} | {med['latency_ms']:.2f} ms | {med['in_session_ms']:.2f} ms | "
                f"{med['checkpoint_ms']:.0f} ms for {med['size'] - 1:.0f} entries |"
            )

if __name__ == "__main__":
    main()
