"""Bulk import speed: rows per second into a fresh SQLite registry (vault, case pointers, linkage index).

    .venv/bin/python benchmarks/import_rows.py --rows 100000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import fresh_registry, median, synth_csv  # noqa: E402

from registry.services.importing import import_file  # noqa: E402


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-import")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    data = synth_csv(args.work / f"children-{args.rows}.csv", args.rows)
    rates = []
    for run in range(args.runs):
        home = args.work / f"run-{run}"
        shutil.rmtree(home, ignore_errors=True)
        reg = fresh_registry(home)
        load_before = os.getloadavg()[0]
        started, cpu_started, workers_started = time.perf_counter(), time.process_time(), _children_cpu()
        report = import_file(reg, data, None)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        workers_cpu = _children_cpu() - workers_started  # the preparing workers, once they have ended
        reg.close()
        assert report.created == args.rows - report.rejected, report
        rates.append(args.rows / elapsed)
        # CPU seconds beside the wall time: on a shared machine they show the work when the wall time cannot.
        print(f"run {run + 1}: {report.created} rows in {elapsed:.1f} s = {args.rows / elapsed:,.0f} rows/s "
              f"({cpu:.1f} CPU s in this process, {workers_cpu:.1f} in the workers; "
              f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)", flush=True)
        shutil.rmtree(home, ignore_errors=True)
    print(f"median: {median(rates):,.0f} rows/s over {args.runs} runs of {args.rows:,} rows")


if __name__ == "__main__":
    main()
