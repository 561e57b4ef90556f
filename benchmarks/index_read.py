"""What a batch run spends reading the registry before and after predict: the linkage index into DuckDB, and a
million records' (record id, child id) as the run's write-back reads them.

    .venv/bin/python benchmarks/dedupe_scale.py --records 1000000      # once: builds the registry
    .venv/bin/python benchmarks/index_read.py --records 1000000 --runs 2

Per run, in one process: `index.all_entries` alone (the packed read into Arrow tables), then the same read
loaded into DuckDB (`dedupe.load_into_duckdb`), and the records' child ids read as SQLAlchemy Rows and as the
driver's tuples (`store.rows.plain_rows`). The code before a change runs from a worktree, this script as it is:
`PYTHONPATH=/tmp/old .venv/bin/python benchmarks/index_read.py ...` (the worktree's `all_entries` and its SQL;
code older than `plain_rows` skips that line).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import bench_name, deduplicated_registry_arguments, median, reopen  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    deduplicated_registry_arguments(ap)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    import duckdb
    from sqlalchemy import select

    from registry.matching.dedupe import load_into_duckdb
    from registry.store.models import CaseRecord

    try:
        from registry.store.rows import plain_rows
    except ImportError:  # code from before plain_rows (a worktree)
        plain_rows = None

    reg = reopen(args.work / f"home-{bench_name(args.records, args.mix)}")
    children = select(CaseRecord.record_id, CaseRecord.child_id).where(CaseRecord.status == "active")
    timings: dict[str, list[float]] = {}

    def timed(name: str, work) -> None:
        started = time.perf_counter()
        work()
        timings.setdefault(name, []).append(time.perf_counter() - started)

    for _ in range(args.runs):
        with reg.db.sessions() as s:
            timed("index read into Arrow (all_entries)", lambda: sum(t.num_rows for t in reg.index.all_entries(s)))
            timed("index read and loaded into DuckDB", lambda: load_into_duckdb(duckdb.connect(),
                                                                               reg.index.all_entries(s)))
            timed("records' child ids as Rows", lambda: dict(s.execute(children).all()))
            if plain_rows is not None:
                timed("records' child ids as the driver's tuples", lambda: dict(plain_rows(s, children)))
    for name, seconds in timings.items():
        print(f"{name}: median {median(seconds):.1f} s (runs {', '.join(f'{x:.1f}' for x in seconds)})")


if __name__ == "__main__":
    main()
