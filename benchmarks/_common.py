"""Shared by the benchmark scripts: a fresh registry in a folder, generated data, medians."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from registry.config import Settings
from registry.keys import create_key_dir
from registry.services.context import Registry, open_registry
from registry.store.migrate import upgrade


def fresh_registry(home: Path, url: str | None = None) -> Registry:
    home.mkdir(parents=True, exist_ok=True)
    url = url or f"sqlite:///{home / 'registry.db'}"
    settings = Settings(home=home, database_url=url, key_dir=home / "keys")
    keys = create_key_dir(settings.key_dir)
    upgrade(url)
    return open_registry(settings, keys)


def reopen(home: Path) -> Registry:
    from registry.keys import load_keys

    settings = Settings(home=home, database_url=f"sqlite:///{home / 'registry.db'}", key_dir=home / "keys")
    upgrade(settings.database_url)  # a registry built by an earlier version of the benchmarks
    return open_registry(settings, load_keys(settings.key_dir))


def linkage_in_duckdb(reg: Registry, work: Path | None = None):
    """The registry's linkage index loaded into DuckDB as a batch run loads it (same memory limit), as `linkage`."""
    from registry.matching.dedupe import duckdb_connection, load_into_duckdb

    con = duckdb_connection(work or reg.settings.work_dir)
    with reg.db.sessions() as s:
        load_into_duckdb(con, reg.index.all_entries(s))
    return con


def synth_csv(path: Path, n: int, seed: int = 1, mix: str = "default") -> Path:
    from registry.synth import SynthConfig, write_csv

    truth = path.with_suffix(".truth.csv")
    if not path.exists() or not truth.exists():
        write_csv(path, n, seed, truth_path=truth, config=SynthConfig.mix(mix))
    return path


def bench_name(records: int, mix: str = "default") -> str:
    """The file-name stem of a benchmark registry: the record count, and the synth mix unless the default."""
    return f"{records}" if mix == "default" else f"{records}-{mix}"


def mix_seed(mix: str) -> int:
    """The seed of a benchmark's generated data: 1, or the held-out mix's own seed."""
    from registry.synth.generator import HELD_OUT_SEED

    return HELD_OUT_SEED if mix == "held-out" else 1


def median(values: list[float]) -> float:
    return statistics.median(values)


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    return f"{os.cpu_count()} cores"


def deduplicated_registry_arguments(ap) -> None:
    """--records, --work and --mix of a registry built by dedupe_scale.py."""
    import tempfile

    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    ap.add_argument("--mix", default="default", choices=("default", "hard", "held-out"))


def trained_registry(args):
    """(registry, model, truth, {record_id: (institution, source_ref)}) of the registry that dedupe_scale.py
    built and trained with the same --records and --mix; exits with a message when it has no current model."""
    import logging
    import sys

    logging.disable(logging.WARNING)
    from sqlalchemy import select

    from registry.matching.evaluate import read_truth
    from registry.store.models import CaseRecord

    name = bench_name(args.records, args.mix)
    data = args.work / f"children-{name}.csv"
    reg = reopen(args.work / f"home-{name}")
    model = reg.model()
    if model is None:
        sys.exit("no current model: run benchmarks/dedupe_scale.py with the same --records and --mix first")
    truth = read_truth(data.with_suffix(".truth.csv"), data)
    with reg.db.sessions() as s:
        key = {r: (i, ref) for r, i, ref in s.execute(
            select(CaseRecord.record_id, CaseRecord.institution, CaseRecord.source_ref))}
    return reg, model, truth, key


def deduplicated_registry(args):
    """(model, truth, {record_id: (institution, source_ref)}, {record_id: linkage row}) of the registry that
    dedupe_scale.py built and trained with the same --records and --mix, for measuring the model on the truth."""
    from sqlalchemy import select

    from registry.matching.index import from_entry
    from registry.store.tables.matching import LinkageEntry

    reg, model, truth, key = trained_registry(args)
    with reg.db.sessions() as s:
        rows = {e.record_id: from_entry(e) for e in s.scalars(select(LinkageEntry))}
    reg.close()
    return model, truth, key, rows
