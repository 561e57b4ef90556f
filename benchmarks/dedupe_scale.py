"""Batch deduplication at scale: wall time, peak memory and accuracy on generated records with known truth.

    .venv/bin/python benchmarks/dedupe_scale.py --records 100000
    .venv/bin/python benchmarks/dedupe_scale.py --records 1000000   # the registry stays for lookup_latency.py
    .venv/bin/python benchmarks/dedupe_scale.py --records 100000 --mix held-out   # the held-out synth mix

Import is set up first (not timed here: see import_rows.py); the timed part is `run_dedupe` (training on a
sample of at most 200,000 records, scoring, clustering, review queue) in a child process, so that its peak
memory (max RSS, DuckDB included) is measured alone.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import bench_name, fresh_registry, mix_seed, synth_csv  # noqa: E402


def child(home: Path) -> None:
    import logging
    import resource

    logging.disable(logging.WARNING)
    from _common import reopen

    from registry.matching.evaluate import evaluate, read_truth
    from registry.services.dedupe import registry_clusters, run_dedupe

    reg = reopen(home)
    started = time.perf_counter()
    phases: list[tuple[str, float, float | None]] = []  # each step's start: seconds into the run, MB written
    written = written_mb()
    result = run_dedupe(reg, retrain=True, progress=lambda msg: phases.append(
        (msg, time.perf_counter() - started, _minus(written_mb(), written))))
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    data = Path(home.parent / home.name.replace("home-", "children-") ).with_suffix(".csv")
    truth = read_truth(data.with_suffix(".truth.csv"), data)
    e = evaluate(registry_clusters(reg), truth)
    from registry.matching.evaluate import calibration, run_pairs

    with reg.db.sessions() as s:
        pairs = run_pairs(s, result.run_id)
        keys = list(run_keys(s))
    cal = calibration(pairs, truth)
    sweep = _sweep(pairs, keys, truth)
    print(json.dumps({"seconds": elapsed, "peak_rss_mb": peak, "records": result.records,
                      "pairs": result.pairs_scored, "clusters": result.clusters,
                      "auto_merged": result.auto_merged, **queue_figures(reg, truth, result.records),
                      "phases": [[msg[:40], round(t, 1), mb] for msg, t, mb in phases],
                      "written_mb": _minus(written_mb(), written), **{
                          "precision": e.pairwise.precision, "recall": e.pairwise.recall, "f1": e.pairwise.f1,
                          "cluster_f1": e.cluster.f1, "cross_script_recall": e.cross_script_recall,
                          "sibling_merge_rate": e.sibling_merge_rate, "twin_merge_rate": e.twin_merge_rate},
                      "thresholds": sweep, "ece": round(cal.ece, 4),
                      "reliability": [[b.low, b.high, b.pairs, round(b.mean_probability, 4), round(b.true_rate, 4)]
                                      for b in cal.bands],
                      "true_pairs_unscored": cal.true_pairs_unscored,
                      "at_or_above": [[a.threshold, a.pairs, round(a.precision, 5), a.true_pairs]
                                      for a in cal.at_or_above]}))


def written_mb() -> float | None:
    """Bytes this process has handed to write() so far (Linux's /proc/self/io, wchar), in MB: what a phase
    writes (SQLite's write-ahead log and its checkpoints, DuckDB's spills). Not write_bytes, which counts pages
    dirtied again after the kernel wrote them back, and so depends on the kernel's timing."""
    try:
        with open("/proc/self/io") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("wchar")) / 1e6
    except (OSError, StopIteration):
        return None


def _minus(now: float | None, start: float | None) -> float | None:
    return None if now is None or start is None else round(now - start)


def queue_figures(reg, truth, records: int) -> dict:
    """The review queue after the run: open pairs per 100 records, their share of true duplicates, and how many
    are same-child pairs held apart by a rule (or waiting because automatic merging is off)."""
    from sqlalchemy import select

    from registry.matching.model import SAME_THRESHOLD
    from registry.store.models import CaseRecord
    from registry.store.tables.matching import SuspectedDuplicate

    with reg.db.sessions() as s:
        rec = {r: (c, (i, ref)) for r, c, i, ref in s.execute(
            select(CaseRecord.record_id, CaseRecord.child_id, CaseRecord.institution, CaseRecord.source_ref))}
        open_pairs = [(a, b, p) for a, b, p in s.execute(
            select(SuspectedDuplicate.record_a, SuspectedDuplicate.record_b, SuspectedDuplicate.probability)
            .where(SuspectedDuplicate.status == "open")) if rec[a][0] != rec[b][0]]
    person = truth.person.get
    true = sum(1 for a, b, _ in open_pairs if person(rec[a][1]) is not None and person(rec[a][1]) == person(rec[b][1]))
    return {"queue_open_pairs": len(open_pairs), "queue_per_100_records": round(100 * len(open_pairs) / records, 2),
            "queue_true_share": round(true / len(open_pairs), 4) if open_pairs else None,
            "queue_same_child_band": sum(1 for *_, p in open_pairs if p >= SAME_THRESHOLD)}


def run_keys(s):
    from sqlalchemy import select

    from registry.store.models import CaseRecord

    return (tuple(k) for k in s.execute(select(CaseRecord.institution, CaseRecord.source_ref)))


def _sweep(pairs, keys, truth) -> dict:
    """Precision, recall, F1 and twin merges if the run's pairs were clustered at other thresholds."""
    from registry.matching.evaluate import threshold_sweep

    return {str(t): {"precision": round(e.pairwise.precision, 4), "recall": round(e.pairwise.recall, 4),
                     "f1": round(e.pairwise.f1, 4), "twin_merge_rate": round(e.twin_merge_rate, 4)}
            for t, e in threshold_sweep(pairs, keys, truth).items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    ap.add_argument("--mix", default="default", choices=("default", "hard", "held-out"),
                    help="the synth mix (registry.synth.generator.MIXES); held-out uses its own seed")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    name = bench_name(args.records, args.mix)
    data = synth_csv(args.work / f"children-{name}.csv", args.records, mix_seed(args.mix), args.mix)
    home = args.work / f"home-{name}"
    imported = home / "registry.imported.db"  # the registry as imported: each run starts from it
    if not (home / "registry.db").exists():
        from registry.services.importing import import_file

        print(f"importing {args.records:,} generated records (set-up, not timed)...", flush=True)
        reg = fresh_registry(home)
        t = time.perf_counter()
        import_file(reg, data, None, batch_size=2000)
        print(f"  imported in {time.perf_counter() - t:.0f} s", flush=True)
        reg.close()
        shutil.copyfile(home / "registry.db", imported)
    elif imported.exists():
        # A run merges children automatically: the next run must start from the same registry, not a merged one.
        for extra in ("registry.db-wal", "registry.db-shm"):
            (home / extra).unlink(missing_ok=True)
        shutil.copyfile(imported, home / "registry.db")
    out = subprocess.run([sys.executable, __file__, "--child", str(home)], capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
