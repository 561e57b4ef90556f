"""Where Splink's predict spends its time: DuckDB's own profiler on the query that scores the blocked pairs,
run alone on a registry built by dedupe_scale.py (the same model, blocking rules and memory limit as a batch
run). Prints the query's wall and CPU time, what it read and spilled, and the costliest operators.

    .venv/bin/python benchmarks/dedupe_scale.py --records 1000000      # once: builds and trains the registry
    .venv/bin/python benchmarks/predict_profile.py --records 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import linkage_in_duckdb, reopen  # noqa: E402


def operators(node: dict, depth: int = 0):
    extra = node.get("extra_info") or {}
    what = extra.get("Conditions") or extra.get("CTE Name") or extra.get("Table") or ""
    yield node.get("timing", 0.0), depth, node.get("type"), node.get("intermediate_rows"), what
    for child in node.get("children", []):
        yield from operators(child, depth + 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    args = ap.parse_args()
    from registry.matching.dedupe import predict_pairs

    reg = reopen(args.work / f"home-{args.records}")
    con = linkage_in_duckdb(reg)
    profile = reg.settings.work_dir / "predict-profile.json"
    con.execute("PRAGMA enable_profiling='json'")
    con.execute(f"PRAGMA profiling_output='{profile}'")  # each query overwrites it: predict's is the last
    t = time.perf_counter()
    predict_pairs(con, reg.model())
    wall = time.perf_counter() - t
    con.execute("PRAGMA disable_profiling")
    report = json.loads(profile.read_text())
    profile.unlink()
    con.close()
    query, io = report.get("query", {}), report.get("io", {})
    print(f"predict: {wall:.0f} s wall; the scoring query {query.get('total_time', 0):.0f} s wall, "
          f"{query.get('cpu_time', 0):.0f} s CPU; read {io.get('total_bytes_read', 0) / 1e9:.1f} GB, "
          f"written (spilled) {io.get('total_bytes_written', 0) / 1e9:.1f} GB")
    ops = [op for root in report.get("operator", []) for op in operators(root)]
    for seconds, depth, kind, rows, what in sorted(ops, key=lambda o: -o[0])[: args.top]:
        print(f"{seconds:8.1f} s  depth {depth:<3} {kind:<18} rows {rows:>12,}  {str(what)[:90]}")
    reg.close()


if __name__ == "__main__":
    main()
