"""Bulk import: idempotent, bad rows reported with row/field/reason, interruption (even SIGKILL, with rows prepared
by worker processes) leaves nothing half-written."""

import csv
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from registry.identity import validate_identity
from registry.services.importing import FileRejected, import_file
from registry.store.models import CaseRecord, Child, VaultEntry
from registry.store.tables.matching import LinkageEntry

REPO = Path(__file__).resolve().parents[2]

HEADER = ["source_ref", "given_name", "father_name", "grandfather_name", "family_name", "mother_given_name",
          "sex", "date_of_birth", "governorate", "national_id"]
AR_GIVEN = ["محمد", "أحمد", "فاطمة", "مريم", "عمر", "عمرو", "حسن", "حسين", "زينب", "عبد الرحمن"]
LAT_GIVEN = ["Mohamed", "Ahmad", "Fatima", "Mariam", "Omar", "Amr", "Hassan", "Hussein", "Zeinab", "Abdel Rahman"]


def make_rows(n, seed=1):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        arabic = i % 2 == 0
        given = rng.choice(AR_GIVEN if arabic else LAT_GIVEN)
        rows.append([f"REF-{i:05d}", given, rng.choice(AR_GIVEN if arabic else LAT_GIVEN),
                     "", "الحلبي" if arabic else "El-Masry", "", rng.choice("MF"),
                     f"20{rng.randint(10, 20)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                     rng.choice(["SY-HL", "حلب", "EG-C", "Giza"]), ""])
    return rows


def write_csv(path, rows, header=HEADER):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def counts(reg):
    with reg.db.unit_of_work() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Child, CaseRecord, VaultEntry))


def test_import_twice_changes_nothing_the_second_time(registry, tmp_path):
    path = write_csv(tmp_path / "list.csv", make_rows(40))
    first = import_file(registry, path, "ngo-aleppo-1", batch_size=16)
    assert (first.created, first.rejected) == (40, 0)
    before = counts(registry)
    second = import_file(registry, path, "ngo-aleppo-1", batch_size=16)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 40)
    assert counts(registry) == before == (40, 40, 40)


def test_changed_row_updates_the_same_child(registry, tmp_path):
    rows = make_rows(3)
    import_file(registry, write_csv(tmp_path / "a.csv", rows), "ngo-1")
    with registry.db.unit_of_work() as s:
        child_before = s.scalars(select(CaseRecord.child_id).where(CaseRecord.source_ref == "REF-00001")).one()
    rows[1][1] = "Youssef"
    report = import_file(registry, write_csv(tmp_path / "b.csv", rows), "ngo-1")
    assert (report.updated, report.unchanged) == (1, 2)
    with registry.db.unit_of_work() as s:
        rec = s.scalars(select(CaseRecord).where(CaseRecord.source_ref == "REF-00001")).one()
        assert rec.child_id == child_before
        assert registry.vault.open(s, rec.record_id).given_name == "Youssef"


def test_bad_rows_are_reported_with_row_field_and_reason_and_good_rows_go_in(registry, tmp_path):
    rows = make_rows(5)
    rows[1][7] = "2015-13-40"  # spreadsheet row 3
    rows[3][1] = "محمد3"  # spreadsheet row 5
    rows[3][8] = "Atlantis"
    rows.append(["REF-00000"] + rows[0][1:])  # a repeated reference, row 7
    rows.append([""] + rows[2][1:])  # no reference, row 8
    report = import_file(registry, write_csv(tmp_path / "bad.csv", rows), "ngo-1")
    assert report.created == 3 and report.rejected == 4
    by_row = {}
    for row, _ref, field, reason in report.errors:
        by_row.setdefault(row, []).append((field, reason))
    assert by_row[3] == [("date_of_birth", "the month does not exist (1-12)")]
    assert {f for f, _ in by_row[5]} == {"given_name", "governorate"}
    assert by_row[7] == [("source_ref", "already used in row 2 of this file")]
    assert by_row[8] == [("source_ref", "is required")]
    out = tmp_path / "report.csv"
    report.write(out)
    with open(out, encoding="utf-8-sig") as f:
        lines = list(csv.reader(f))
    assert lines[0] == ["row", "source_ref", "field", "reason"] and len(lines) == 1 + len(report.errors)


def test_interrupted_import_leaves_whole_children_and_a_rerun_completes(registry, tmp_path):
    path = write_csv(tmp_path / "list.csv", make_rows(50))
    calls = []

    def interrupt(n):
        calls.append(n)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(registry, path, "ngo-1", batch_size=10, progress=interrupt)
    children, records, vault = counts(registry)
    assert children == records == vault == 20  # two whole batches, nothing half-written
    report = import_file(registry, path, "ngo-1", batch_size=10)
    assert (report.created, report.unchanged) == (30, 20)
    assert counts(registry) == (50, 50, 50)


def test_failure_inside_a_batch_rolls_the_whole_batch_back(registry, tmp_path, monkeypatch):
    from registry.identity import vault as vault_module

    path = write_csv(tmp_path / "list.csv", make_rows(10))
    real_seal = vault_module.Vault.sealed
    sealed = []

    def flaky_seal(self, record_id, *args):
        sealed.append(record_id)
        if len(sealed) == 7:
            raise OSError("disk full")
        return real_seal(self, record_id, *args)

    monkeypatch.setattr(vault_module.Vault, "sealed", flaky_seal)
    with pytest.raises(OSError):
        import_file(registry, path, "ngo-1", batch_size=5)
    assert counts(registry) == (5, 5, 5)


def test_xlsx_with_arabic_headers(registry, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["رقم الحالة", "الاسم", "اسم الأب", "الكنية", "الجنس", "تاريخ الميلاد", "المحافظة", "ملاحظات"])
    ws.append(["X-1", "مريم", "خالد", "الشامي", "أنثى", "٢٠١٧-٠٥-٠٩", "دمشق", "ignored"])
    ws.append(["X-2", "Khaled", "Omar", "Al-Shami", "ذكر", "2019", "Damascus", ""])
    path = tmp_path / "list.xlsx"
    wb.save(path)
    report = import_file(registry, path, "ngo-dam-2")
    assert (report.created, report.rejected) == (2, 0)
    assert report.ignored_columns == ["ملاحظات"]
    with registry.db.unit_of_work() as s:
        rec = s.scalars(select(CaseRecord).where(CaseRecord.source_ref == "X-1")).one()
        ident = registry.vault.open(s, rec.record_id)
    assert (ident.given_name, ident.sex, ident.governorate, str(ident.date_of_birth)) == \
        ("مريم", "F", "SY-DI", "2017-05-09")


def test_file_without_reference_column_is_rejected_whole(registry, tmp_path):
    path = write_csv(tmp_path / "x.csv", [["a", "b"]], header=["given_name", "family_name"])
    with pytest.raises(FileRejected, match="source_ref"):
        import_file(registry, path, "ngo-1")
    with pytest.raises(FileRejected, match="only .csv, .xlsx"):
        import_file(registry, tmp_path / "x.pdf", "ngo-1")


def test_import_is_audited_by_batch_with_pseudonyms_only(registry, tmp_path):
    path = write_csv(tmp_path / "list.csv", make_rows(12))
    import_file(registry, path, "ngo-aleppo-1", batch_size=5)
    events = [registry.audit.entry(i).event for i in range(registry.audit.size())]
    imports = [e for e in events if e.action == "import"]
    assert [len(e.children) for e in imports] == [5, 5, 2]
    assert all(c.startswith("CR-") for e in imports for c in e.children)
    import_file(registry, path, "ngo-aleppo-1", batch_size=5)  # unchanged: nothing new to log
    assert registry.audit.size() == len(events)


# ---- rows prepared by worker processes -------------------------------------------------------------------
WORKER_HEADER = ["source_ref", "given_name", "father_name", "family_name", "mother_given_name", "sex", "date_of_birth",
          "governorate"]
# Arabic and Latin spellings of the same names, as two agencies would write them.
GIVEN = [("محمد", "Mohamed"), ("فاطمة", "Fatima"), ("عبد الرحمن", "Abdel Rahman"), ("عمر", "Omar"),
         ("حسين", "Hussein"), ("مريم", "Mariam")]
FAMILY = [("الحلبي", "Al-Halabi"), ("المصري", "El-Masry"), ("الشامي", "Al-Shami")]


def worker_rows(n):
    out = []
    for i in range(n):
        script = i % 2
        given, father = GIVEN[i % len(GIVEN)][script], GIVEN[(i // 6) % len(GIVEN)][script]
        out.append([f"W-{i:05d}", given, father, FAMILY[i % 3][script], GIVEN[(i + 1) % 6][script], "MF"[i % 2],
                    f"20{10 + i % 10}-0{1 + i % 9}-{10 + i % 18}", ["SY-HL", "حلب", "EG-C", "Giza"][i % 4]])
    return out


def all_counts(reg):
    """Children, records, vault entries and linkage entries."""
    with reg.db.unit_of_work() as s:
        return counts(reg) + (s.scalar(select(func.count()).select_from(LinkageEntry)),)


def test_rows_prepared_by_workers_are_stored_as_in_process(registry, tmp_path):
    data = worker_rows(240)
    path = write_csv(tmp_path / "list.csv", data, WORKER_HEADER)
    report = import_file(registry, path, "ngo-aleppo-1", batch_size=40, workers=2, pool_after_rows=40)
    assert (report.created, report.rejected) == (240, 0)
    assert all_counts(registry) == (240,) * 4
    by_ref = {row[0]: dict(zip(WORKER_HEADER, row)) for row in data}
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
    assert all_counts(registry) == (240,) * 4


def test_an_import_killed_with_sigkill_leaves_whole_children_and_a_rerun_completes(sqlite_registry, tmp_path):
    reg = sqlite_registry
    path = write_csv(tmp_path / "list.csv", worker_rows(2000), WORKER_HEADER)
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
    children, records, vault, encodings = all_counts(reg)
    assert children == records == vault == encodings  # whole children only
    assert 300 <= children < 2000 and children % 100 == 0
    report = import_file(reg, path, "ngo-cairo-2", batch_size=100, workers=2, pool_after_rows=0)
    assert (report.created, report.unchanged) == (2000 - children, children)
    assert all_counts(reg) == (2000,) * 4


# ---- what the import's plain-tuple writes store ------------------------------------------------------------
def test_new_records_are_stored_as_sqlalchemy_would_store_them(registry):
    """The import hands the driver plain tuples (registration.insert_new_records): every column holds what
    SQLAlchemy's own insert of the same values stores, type included (dates as text on SQLite, 1/0, bytes)."""
    from sqlalchemy import Column, MetaData, Table, insert, text

    from registry.services.registration import (
        NEW_RECORD_TABLES,
        NewRecord,
        driver_rows,
        insert_new_records,
        new_record_values,
    )

    identity = validate_identity({"source_ref": "CMP-1", "given_name": "محمد", "father_name": "أحمد",
                                  "family_name": "الحلبي", "sex": "M", "date_of_birth": "2015-03-07",
                                  "governorate": "SY-HL", "national_id": "12345678901"}, institution="ngo-1")
    child_id, record_id, digest, values = new_record_values(registry, identity)
    new = NewRecord("ngo-1", "CMP-1", digest, child_id, record_id, driver_rows(registry, values))
    # The same record twice: once as the import writes it, once by SQLAlchemy into column-for-column copies.
    copies = MetaData()
    mirrors = [Table(f"cmp_{t.name}", copies, *[Column(c.name, c.type) for c in t.columns]) for t in NEW_RECORD_TABLES]
    with registry.db.unit_of_work() as s:
        insert_new_records(s, [new])
        copies.create_all(s.connection())
        for mirror, vals in zip(mirrors, values):
            s.execute(insert(mirror), [vals])
    sqlite = registry.db.dialect == "sqlite"
    with registry.db.engine.connect() as c:
        for table, mirror in zip(NEW_RECORD_TABLES, mirrors):
            cols = ", ".join(f"{n}, typeof({n})" if sqlite else n for n in (col.name for col in table.columns))
            stored = c.execute(text(f"SELECT {cols} FROM {table.name}")).all()
            expected = c.execute(text(f"SELECT {cols} FROM {mirror.name}")).all()
            assert stored == expected, table.name
        copies.drop_all(c)
        c.commit()


def test_an_erased_record_in_the_file_is_refused_by_field_and_the_rest_goes_in(registry, tmp_path):
    from registry.services.registration import erase_child

    rows = make_rows(6)
    import_file(registry, write_csv(tmp_path / "a.csv", rows[:4]), "ngo-1")
    with registry.db.unit_of_work() as s:
        child = s.scalars(select(CaseRecord.child_id).where(CaseRecord.source_ref == "REF-00001")).one()
    erase_child(registry, child)
    rows[2][1] = "Youssef"  # changed: an update
    report = import_file(registry, write_csv(tmp_path / "b.csv", rows), "ngo-1")
    assert (report.created, report.updated, report.unchanged, report.rejected) == (2, 1, 2, 1)
    assert report.errors == [(3, "REF-00001", "source_ref", "this record was erased at the child's request and "
                                                             "cannot be registered again under the same reference")]
    assert sorted(report.committed_rows) == [2, 4, 5, 6, 7]
