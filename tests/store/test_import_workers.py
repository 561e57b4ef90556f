"""Import with rows prepared in worker processes: the same rows stored as in process, idempotent, and an import
killed with SIGKILL mid-file leaves whole children only, which a re-run completes."""

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import func, select

from registry.identity import validate_identity
from registry.services.importing import import_file
from registry.store.models import CaseRecord, Child, VaultEntry
from registry.store.tables.matching import LinkageEntry

REPO = Path(__file__).resolve().parents[2]
HEADER = ["source_ref", "given_name", "father_name", "family_name", "mother_given_name", "sex", "date_of_birth",
          "governorate"]
# Arabic and Latin spellings of the same names, as two agencies would write them.
GIVEN = [("محمد", "Mohamed"), ("فاطمة", "Fatima"), ("عبد الرحمن", "Abdel Rahman"), ("عمر", "Omar"),
         ("حسين", "Hussein"), ("مريم", "Mariam")]
FAMILY = [("الحلبي", "Al-Halabi"), ("المصري", "El-Masry"), ("الشامي", "Al-Shami")]


def rows(n):
    out = []
    for i in range(n):
        script = i % 2
        given, father = GIVEN[i % len(GIVEN)][script], GIVEN[(i // 6) % len(GIVEN)][script]
        out.append([f"W-{i:05d}", given, father, FAMILY[i % 3][script], GIVEN[(i + 1) % 6][script], "MF"[i % 2],
                    f"20{10 + i % 10}-0{1 + i % 9}-{10 + i % 18}", ["SY-HL", "حلب", "EG-C", "Giza"][i % 4]])
    return out


def write(path, data):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(data)
    return path


def counts(reg):
    with reg.db.unit_of_work() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Child, CaseRecord, VaultEntry,
                                                                                   LinkageEntry))


def test_rows_prepared_by_workers_are_stored_as_in_process(registry, tmp_path):
    data = rows(240)
    path = write(tmp_path / "list.csv", data)
    report = import_file(registry, path, "ngo-aleppo-1", batch_size=40, workers=2, pool_after_rows=40)
    assert (report.created, report.rejected) == (240, 0)
    assert counts(registry) == (240,) * 4
    by_ref = {row[0]: dict(zip(HEADER, row)) for row in data}
    with registry.db.unit_of_work() as s:
        for rec in s.scalars(select(CaseRecord)):
            expected = validate_identity(by_ref[rec.source_ref], institution="ngo-aleppo-1")
            # The worker sealed it under this record's id, with the keys this process holds.
            assert registry.vault.open(s, rec.record_id) == expected
            stored = s.get(LinkageEntry, rec.record_id)
            assert stored.child_id == rec.child_id
            encoded = registry.index.entry_values(rec.record_id, rec.child_id, expected)
            assert {c: getattr(stored, c) for c in encoded} == encoded
    again = import_file(registry, path, "ngo-aleppo-1", batch_size=40, workers=2, pool_after_rows=40)
    assert (again.created, again.unchanged) == (0, 240)
    assert counts(registry) == (240,) * 4


def test_an_import_killed_with_sigkill_leaves_whole_children_and_a_rerun_completes(sqlite_registry, tmp_path):
    reg = sqlite_registry
    path = write(tmp_path / "list.csv", rows(2000))
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from registry.config import Settings
        from registry.keys import load_keys
        from registry.services.context import open_registry
        from registry.services.importing import import_file

        home = Path({str(reg.settings.home)!r})
        settings = Settings(home=home, database_url={reg.settings.database_url!r}, key_dir=home / "keys")
        reg = open_registry(settings, load_keys(settings.key_dir))

        def slowly(n):
            print("batch", flush=True)
            time.sleep(0.2)

        import_file(reg, Path({str(path)!r}), "ngo-cairo-2", batch_size=100, progress=slowly, workers=2,
                    pool_after_rows=0)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(3):  # three batches committed, the workers busy with the next
            assert proc.stdout.readline().strip() == "batch"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    time.sleep(0.5)  # the orphaned workers find their parent gone and exit
    children, records, vault, encodings = counts(reg)
    assert children == records == vault == encodings  # whole children only
    assert 300 <= children < 2000 and children % 100 == 0
    report = import_file(reg, path, "ngo-cairo-2", batch_size=100, workers=2, pool_after_rows=0)
    assert (report.created, report.unchanged) == (2000 - children, children)
    assert counts(reg) == (2000,) * 4
