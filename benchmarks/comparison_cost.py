"""What each comparison costs in Splink's SQL: its level CASE evaluated over every blocked pair of a registry
built by dedupe_scale.py, one comparison at a time (best of three), then the family and the given name inside
the family together (as predict evaluates them, in one projection).

    .venv/bin/python benchmarks/dedupe_scale.py --records 100000      # once: builds and trains the registry
    .venv/bin/python benchmarks/comparison_cost.py --records 100000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import linkage_in_duckdb, reopen  # noqa: E402


def best_of(con, sql: str, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        con.execute(sql).fetchall()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    args = ap.parse_args()
    from registry.matching.blocking import sql_rules
    from registry.matching.comparisons import COMPARISONS, level_sql

    reg = reopen(args.work / f"home-{args.records}")
    con = linkage_in_duckdb(reg, Path(tempfile.mkdtemp()))
    reg.close()
    columns = [d[0] for d in con.execute("SELECT * FROM linkage LIMIT 0").description]
    sides = ", ".join(f"{side}.{c} AS {c}_{side}" for side in ("l", "r") for c in columns)
    con.execute("CREATE TABLE ids AS " + " UNION ".join(
        f"SELECT l.record_id AS a, r.record_id AS b FROM linkage l JOIN linkage r ON ({rule}) "
        "AND l.record_id < r.record_id" for rule in sql_rules()))
    con.execute(f"CREATE TABLE pairs AS SELECT {sides} FROM ids "
                "JOIN linkage l ON l.record_id = ids.a JOIN linkage r ON r.record_id = ids.b")
    n = con.execute("SELECT count(*) FROM pairs").fetchall()[0][0]
    print(f"{n:,} blocked pairs of {args.records:,} records; seconds to evaluate each comparison's levels:")
    cases = {c.name: level_sql(c) for c in COMPARISONS}
    for name, case in cases.items():
        print(f"  {name:20s} {best_of(con, f'SELECT sum({case}) FROM pairs'):.3f} s")
    both = f"SELECT sum({cases['family']}), sum({cases['given_in_family']}) FROM pairs"
    print(f"  family and given_in_family together {best_of(con, both):.3f} s")


if __name__ == "__main__":
    main()
