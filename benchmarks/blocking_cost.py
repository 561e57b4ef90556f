"""What blocking costs before Splink scores the pairs: Splink's own blocking (each rule joined with NOT every
earlier rule) against the registry's (`dedupe.blocked_pairs_sql`: every rule's join, one GROUP BY), on a
registry built by dedupe_scale.py, in the batch's DuckDB set-up (same memory limit). Alternated, each way run
`--runs` times; both must give the same number of pairs.

    .venv/bin/python benchmarks/dedupe_scale.py --records 1000000      # once: builds and trains the registry
    .venv/bin/python benchmarks/blocking_cost.py --records 1000000 [--runs 2] [--rules]

--rules also times each rule's join alone (no exclusions, no deduplication) and prints its pair count.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import bench_name, linkage_in_duckdb, reopen  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--rules", action="store_true", help="time each rule's join alone too")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    args = ap.parse_args()
    from splink import DuckDBAPI, Linker

    from registry.matching.dedupe import blocked_pairs_sql, prediction_rules
    from registry.matching.model import ROW_KEY, SPLINK_LOG_LEVEL

    reg = reopen(args.work / f"home-{bench_name(args.records)}")
    con = linkage_in_duckdb(reg)
    settings = reg.model().splink_settings_for_predict()
    rules = prediction_rules(settings)
    if args.rules:
        total = 0.0
        for n, rule in enumerate(rules):
            started = time.perf_counter()
            pairs = con.execute(f"SELECT count(*) FROM linkage AS l JOIN linkage AS r ON ({rule}) "
                                f"AND l.{ROW_KEY} < r.{ROW_KEY}").fetchall()[0][0]
            seconds = time.perf_counter() - started
            total += seconds
            print(f"rule {n:2d}: {seconds:6.2f} s {pairs:>12,} pairs  {rule[:100]}")
        print(f"the {len(rules)} joins alone: {total:.1f} s")

    def splinks() -> int:
        linker = Linker(DuckDBAPI(con).register("linkage"), settings, log_level=SPLINK_LOG_LEVEL)
        pairs = linker.inference.compute_blocked_pairs_for_predict()
        n = con.execute(f"SELECT count(*) FROM {pairs.physical_name}").fetchall()[0][0]
        pairs.drop_table_from_database_and_remove_from_cache()
        return n

    def registrys() -> int:
        con.execute(f"CREATE OR REPLACE TABLE _blocked AS {blocked_pairs_sql(settings)}")
        n = con.execute("SELECT count(*) FROM _blocked").fetchall()[0][0]
        con.execute("DROP TABLE _blocked")
        return n

    times: dict[str, list[float]] = {"Splink's blocking": [], "the registry's": []}
    counts: dict[str, int] = {}
    for i in range(args.runs):
        ways = [("Splink's blocking", splinks), ("the registry's", registrys)]
        for name, way in ways if i % 2 == 0 else reversed(ways):
            started = time.perf_counter()
            counts[name] = way()
            times[name].append(time.perf_counter() - started)
    if len(set(counts.values())) != 1:
        sys.exit(f"the two ways found different numbers of pairs: {counts}")
    for name, seconds in times.items():
        print(f"{name}: median {statistics.median(seconds):.1f} s (runs {', '.join(f'{t:.1f}' for t in seconds)}), "
              f"{counts[name]:,} pairs")
    con.close()
    reg.close()


if __name__ == "__main__":
    main()
