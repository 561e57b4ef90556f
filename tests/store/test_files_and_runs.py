"""Part 6 of issue 12: the registry home is owner-only, and a dedupe run that died is marked failed."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from registry.services.dedupe import DedupeBusy, dedupe_lock, mark_dead_runs
from registry.store.tables.matching import DedupeRun

REPO = Path(__file__).resolve().parents[2]


def _loose(home: Path) -> list[str]:
    out = []
    for root, dirs, files in os.walk(home):
        for name in dirs + files:
            p = Path(root, name)
            if stat.S_IMODE(p.lstat().st_mode) & 0o077:
                out.append(f"{p.relative_to(home)} {oct(stat.S_IMODE(p.lstat().st_mode))}")
    return out


def test_the_registry_home_and_its_files_are_owner_only(tmp_path, monkeypatch):
    from registry.config import load_settings
    from registry.services.context import init_registry, open_registry
    from registry.services.importing import import_file

    old = os.umask(0o022)  # a usual login umask: files 0644 unless the registry sees to it
    try:
        home = tmp_path / "home"
        monkeypatch.setenv("REGISTRY_HOME", str(home))
        for name in ("REGISTRY_DATABASE_URL", "REGISTRY_KEY_DIR"):
            monkeypatch.delenv(name, raising=False)
        reg, _ = init_registry()
        csv_file = tmp_path / "list.csv"
        csv_file.write_text("source_ref,given_name,sex\nA-1,Omar,M\n", encoding="utf-8")
        import_file(reg, csv_file, "ngo-1")
        (reg.settings.work_dir).mkdir(exist_ok=True)
        (reg.settings.work_dir / "scratch.duckdb").write_bytes(b"x")
        reg.close()
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        assert _loose(home) == []
        # A home made by an older version (world-readable) is tightened when the registry opens it.
        os.umask(0o022)
        os.chmod(home, 0o755)
        os.chmod(home / "registry.db", 0o644)
        os.chmod(home / "work", 0o755)
        os.chmod(home / "work" / "scratch.duckdb", 0o644)
        open_registry(load_settings()).close()
        assert stat.S_IMODE(home.stat().st_mode) == 0o700 and _loose(home) == []
    finally:
        os.umask(old)


def test_a_run_left_running_is_marked_failed_by_the_next_one(registry):
    with registry.db.unit_of_work() as s:
        s.add(DedupeRun(run_id="run-dead", status="running"))
        s.add(DedupeRun(run_id="run-done", status="finished"))
    with dedupe_lock(registry):
        assert mark_dead_runs(registry) == 1
        # While a run holds the lock, no other can start (so "running" always means alive or dead, never both).
        with pytest.raises(DedupeBusy), dedupe_lock(registry):
            pass
    with registry.db.unit_of_work() as s:
        runs = {r.run_id: (r.status, r.finished_at is not None) for r in s.scalars(select(DedupeRun))}
    assert runs == {"run-dead": ("failed", True), "run-done": ("finished", False)}


@pytest.mark.slow
def test_a_dedupe_killed_with_sigkill_is_marked_failed_by_the_next_run(tmp_path, database_url, registry_factory):
    from registry.services.importing import import_file
    from registry.synth import write_csv

    reg = registry_factory(tmp_path / "home", database_url)
    write_csv(tmp_path / "list.csv", 30, seed=3)
    import_file(reg, tmp_path / "list.csv", None)
    script = textwrap.dedent(f"""
        import time
        from registry.config import Settings
        from registry.keys import load_keys
        from registry.services.context import open_registry
        from registry.matching import dedupe as engine
        from registry.services import dedupe

        def slow_training(con):
            print("training", flush=True)
            time.sleep(120)

        engine.train_model = slow_training
        home = {str(tmp_path / "home")!r}
        settings = Settings(home=__import__("pathlib").Path(home), database_url={database_url!r},
                            key_dir=__import__("pathlib").Path(home) / "keys")
        reg = open_registry(settings, load_keys(settings.key_dir))
        dedupe.run_dedupe(reg)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "training"  # the run row is written, the lock is held
        with pytest.raises(DedupeBusy), dedupe_lock(reg):
            pass
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    deadline = time.time() + 20
    while True:  # the server notices the dead client's session at once in practice; allow it a moment
        try:
            with dedupe_lock(reg):
                assert mark_dead_runs(reg) == 1
            break
        except DedupeBusy:
            assert time.time() < deadline
            time.sleep(0.2)
    with reg.db.unit_of_work() as s:
        assert [r.status for r in s.scalars(select(DedupeRun))] == ["failed"]
    reg.close()
