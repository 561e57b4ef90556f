"""Batch deduplication against plain Splink, one after the other on the same records and the same model.

    .venv/bin/python benchmarks/dedupe_scale.py --records 100000        # once: builds and trains the registry
    .venv/bin/python benchmarks/dedupe_vs_splink.py --records 100000 --runs 3

Set-up, not timed: the registry built by dedupe_scale.py (imported, model trained), and its linkage index
exported once to a Parquet file for plain Splink. Timed, each in a fresh child process (peak memory = its max
RSS), in alternating order:
- registry: `run_dedupe` with the saved model: read the index from the registry's database, Splink's predict,
  the registry's rules (twin cap) and the check against the real-time scorer, the decisions (same child at
  0.999, merged automatically: none on a registry dedupe_scale.py already deduplicated), the run's pairs,
  clusters and review queue written back to the database;
- plain Splink: read the Parquet file into an in-memory DuckDB (Splink's default), `predict` with the same
  settings, blocking rules and term frequencies at the review threshold, then
  `cluster_pairwise_predictions_at_threshold` at 0.95: no rules, nothing written back. Its unique id is the
  record id, as a Splink user holds the records (`--splink-id row_key`: the integer key the registry pairs by).
The registry's child also prints how long each step took (its progress messages, timed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import bench_name  # noqa: E402

WAYS = ("registry", "splink")


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def registry_run(home: Path) -> dict:
    import logging

    logging.disable(logging.WARNING)
    from _common import reopen

    from registry.services.dedupe import run_dedupe

    reg = reopen(home)
    steps: list[tuple[str, float]] = []
    started = time.perf_counter()
    result = run_dedupe(reg, progress=lambda msg: steps.append((msg, time.perf_counter())))
    elapsed = time.perf_counter() - started
    marks = [(m, t - started) for m, t in steps] + [("done", elapsed)]
    step_seconds = {m: round(marks[i + 1][1] - t, 2) for i, (m, t) in enumerate(marks[:-1])}
    return {"way": "registry", "seconds": elapsed, "peak_mb": _peak_mb(), "pairs": result.pairs_scored,
            "clusters": result.clusters, "steps": step_seconds}


def splink_run(home: Path, parquet: Path, unique_id: str) -> dict:
    import duckdb
    from splink import DuckDBAPI, Linker

    from registry.matching.dedupe import tf_lookup
    from registry.matching.model import MATCH_THRESHOLD, REVIEW_THRESHOLD, SPLINK_LOG_LEVEL, LinkageModel

    model = LinkageModel.load(home / "model" / "linkage_model.json")
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"CREATE TABLE linkage AS SELECT * FROM read_parquet('{parquet}')")
    api = DuckDBAPI(con)
    settings = model.splink_settings_for_predict()
    settings["retain_intermediate_calculation_columns"] = False  # Splink's default
    settings["unique_id_column_name"] = unique_id
    linker = Linker(api.register("linkage"), settings, log_level=SPLINK_LOG_LEVEL)
    for col in model.tf:  # the model's term frequencies, by token as the Parquet export holds them (numbers)
        linker.table_management.register_term_frequency_lookup(api.register(tf_lookup(model, col)), col)
    predictions = linker.inference.predict(threshold_match_probability=REVIEW_THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, MATCH_THRESHOLD)
    rel = clusters.as_duckdbpyrelation()
    n_clusters = rel.aggregate("count(DISTINCT cluster_id)").fetchall()[0][0]
    n_pairs = predictions.as_duckdbpyrelation().aggregate("count(*)").fetchall()[0][0]
    elapsed = time.perf_counter() - started
    return {"way": "splink", "seconds": elapsed, "peak_mb": _peak_mb(), "pairs": n_pairs, "clusters": n_clusters}


def export(home: Path, parquet: Path) -> None:
    """The registry's linkage index as Parquet (keyed encodings only), the way a Splink user would hold it."""
    import duckdb
    from _common import reopen

    from registry.matching.dedupe import load_into_duckdb

    reg = reopen(home)
    con = duckdb.connect()
    with reg.db.sessions() as s:
        load_into_duckdb(con, reg.index.all_entries(s))
    con.execute(f"COPY linkage TO '{parquet}' (FORMAT parquet)")
    con.close()


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    ap.add_argument("--splink-id", choices=("record_id", "row_key"), default="record_id",
                    help="plain Splink's unique id column (default: the record id)")
    ap.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    home = args.work / f"home-{bench_name(args.records)}"
    parquet = args.work / f"linkage-{bench_name(args.records)}.parquet"
    if args.child == "registry":
        print(json.dumps(registry_run(home)))
        return
    if args.child == "splink":
        print(json.dumps(splink_run(home, parquet, args.splink_id)))
        return
    if not (home / "model" / "linkage_model.json").exists():
        sys.exit(f"no trained registry at {home}: run benchmarks/dedupe_scale.py --records {args.records} first")
    if not parquet.exists():
        export(home, parquet)
    runs: dict[str, list[dict]] = {w: [] for w in WAYS}
    for i in range(args.runs):
        for way in WAYS if i % 2 == 0 else reversed(WAYS):
            r = _child(["--records", str(args.records), "--work", str(args.work), "--splink-id", args.splink_id,
                        "--child", way])
            runs[way].append(r)
            print(json.dumps({"run": i + 1, **r}), flush=True)
    import os

    summary = {w: {"median_seconds": round(statistics.median(r["seconds"] for r in rs), 1),
                   "seconds": [round(r["seconds"], 1) for r in rs],
                   "peak_mb": round(max(r["peak_mb"] for r in rs)), "pairs": rs[0]["pairs"],
                   "clusters": rs[0]["clusters"]} for w, rs in runs.items()}
    summary["time_ratio"] = round(summary["registry"]["median_seconds"] / summary["splink"]["median_seconds"], 2)
    summary["memory_ratio"] = round(summary["registry"]["peak_mb"] / summary["splink"]["peak_mb"], 2)
    summary["load_average"] = round(os.getloadavg()[0], 1)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
