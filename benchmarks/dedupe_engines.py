"""Batch deduplication on DuckDB and on Spark (local master), one after the other on the same registry.

    .venv/bin/python benchmarks/dedupe_engines.py --records 20000 100000 --runs 3

Set-up, not timed: generated records imported into a SQLite registry per size, and the model trained once
(a DuckDB run), so that both engines score with the same saved model. Timed: `run_dedupe(engine=...)` in a
fresh child process per run (Spark's JVM included: a real `registry dedupe --engine spark` starts one too),
in alternating order. Reported per engine: the median wall time, the time to start the Spark session, peak
memory (the Python process's max RSS, plus the JVM's VmHWM for Spark), and the run's pairs and clusters,
which must be the same on both engines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import fresh_registry, synth_csv  # noqa: E402

ENGINES = ("duckdb", "spark")


def _jvm_peak_mb() -> float:
    """Peak resident memory (VmHWM) of this process's Java children: pyspark's JVM."""
    peak = 0.0
    me = os.getpid()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) != me:
                continue
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, ValueError, IndexError):
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def child(home: Path, engine: str, master: str) -> None:
    import logging
    import resource

    logging.disable(logging.WARNING)
    from _common import reopen

    from registry.services.dedupe import run_dedupe

    reg = reopen(home)
    session_seconds = 0.0
    started = time.perf_counter()
    if engine == "spark":
        from registry.matching.spark import spark_session

        spark_session(master)
        session_seconds = time.perf_counter() - started
    result = run_dedupe(reg, engine=engine)
    elapsed = time.perf_counter() - started
    python_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": engine, "seconds": elapsed, "session_seconds": session_seconds,
                      "python_peak_mb": python_peak, "jvm_peak_mb": _jvm_peak_mb(), "records": result.records,
                      "pairs": result.pairs_scored, "clusters": result.clusters}))


def _run(home: Path, engine: str, master: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(home), "--engine", engine, "--master", master],
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def prepare(work: Path, n: int) -> Path:
    data = synth_csv(work / f"children-{n}.csv", n)
    home = work / f"home-{n}"
    if not (home / "registry.db").exists():
        from registry.services.importing import import_file

        print(f"importing {n:,} generated records (set-up, not timed)...", flush=True)
        reg = fresh_registry(home)
        import_file(reg, data, None, batch_size=2000)
        reg.close()
    if not (home / "model" / "linkage_model.json").exists():
        print("training the model once on DuckDB (set-up, not timed)...", flush=True)
        _run(home, "duckdb", "")
    return home


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, nargs="+", default=[20_000, 100_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-engines")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.engine, args.master)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    summary = []
    for n in args.records:
        home = prepare(args.work, n)
        runs: dict[str, list[dict]] = {e: [] for e in ENGINES}
        for i in range(args.runs):
            for engine in ENGINES if i % 2 == 0 else reversed(ENGINES):
                r = _run(home, engine, args.master)
                runs[engine].append(r)
                print(json.dumps({"records": n, "run": i + 1, **r}), flush=True)
        same = len({(r["pairs"], r["clusters"]) for rs in runs.values() for r in rs}) == 1
        for engine, rs in runs.items():
            summary.append({
                "records": n, "engine": engine, "runs": len(rs),
                "median_seconds": round(statistics.median(r["seconds"] for r in rs), 1),
                "median_session_seconds": round(statistics.median(r["session_seconds"] for r in rs), 1),
                "peak_python_mb": round(max(r["python_peak_mb"] for r in rs)),
                "peak_jvm_mb": round(max(r["jvm_peak_mb"] for r in rs)),
                "pairs": rs[0]["pairs"], "clusters": rs[0]["clusters"], "same_on_both_engines": same})
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
