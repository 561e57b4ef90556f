"""Fuzz: generated case lists, broken in many ways, fed to the import. Whatever the file, the import ends with an
ImportReport or a FileRejected naming the file (never another exception), the report can be written, and no
child is half-written."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry.services.importing import FileRejected, import_file
from registry.store.models import CaseRecord, Child, VaultEntry
from registry.synth import write_csv

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1256", "iso8859_6", "cp1252", "utf-32"]


def _mutate_text(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(9)
    if kind == 0:  # cut anywhere
        return data[: rng.randrange(len(data))]
    if kind == 1:  # flip bytes
        b = bytearray(data)
        for _ in range(rng.randint(1, 30)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if kind == 2:  # insert a run of random bytes
        at = rng.randrange(len(data))
        return data[:at] + rng.randbytes(rng.randint(1, 400)) + data[at:]
    if kind == 3:  # another encoding
        enc = rng.choice(ENCODINGS)
        return data.decode("utf-8").encode(enc, errors="replace")
    if kind == 4:  # a stray quote or delimiter storm
        at = rng.randrange(len(data))
        return data[:at] + rng.choice([b'"', b'""', b",,,,,,", b";", b"\t", b"\r", b"\n\n"]) + data[at:]
    if kind == 5:  # NULs
        at = rng.randrange(len(data))
        return data[:at] + b"\x00" * rng.randint(1, 5) + data[at:]
    if kind == 6:  # a huge field
        at = data.index(b"\n", rng.randrange(len(data) // 2)) + 1
        return data[:at] + b"X-HUGE," + b"a" * rng.randint(130_000, 300_000) + data[at:]
    if kind == 7:  # pure noise
        return rng.randbytes(rng.randint(1, 20_000))
    return b""  # empty


def _mutate_xlsx(data: bytes, rng: random.Random, tmp: Path) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return data[: rng.randrange(len(data))]
    if kind == 1:
        b = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if kind == 2:  # a zip holding the wrong parts, or a part replaced by junk
        src = tmp / "src.xlsx"
        src.write_bytes(data)
        out = tmp / "mut.xlsx"
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
            for item in zin.infolist():
                content = zin.read(item)
                if rng.random() < 0.3:
                    content = rng.randbytes(len(content) or 1)
                if rng.random() < 0.9:
                    zout.writestr(item.filename, content)
        return out.read_bytes()
    return b"PK\x03\x04" + rng.randbytes(rng.randint(0, 3000))


def _counts(reg) -> tuple[int, int, int]:
    with reg.db.unit_of_work() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Child, CaseRecord, VaultEntry))


def _fuzz(reg, tmp_path: Path, n: int, seed: int) -> dict[str, int]:
    base_csv = tmp_path / "base.csv"
    write_csv(base_csv, 40, seed=seed, bad_row_rate=0.1)
    base_xlsx = tmp_path / "base.xlsx"
    write_csv(base_xlsx, 25, seed=seed + 1)
    text, sheet = base_csv.read_bytes(), base_xlsx.read_bytes()
    rng = random.Random(seed)
    outcomes = {"imported": 0, "rejected": 0}
    for i in range(n):
        as_sheet = rng.random() < 0.3
        data = _mutate_xlsx(sheet, rng, tmp_path) if as_sheet else _mutate_text(text, rng)
        path = tmp_path / f"fuzz-{i}.{'xlsx' if as_sheet else 'csv'}"
        path.write_bytes(data)
        try:
            report = import_file(reg, path, None, batch_size=7)
            outcomes["imported"] += 1
        except FileRejected as e:
            report = e.import_report
            assert str(e).startswith(path.name), str(e)
            assert e.reason and "Traceback" not in str(e)
            outcomes["rejected"] += 1
        report.write(tmp_path / f"fuzz-{i}.errors.csv")
        for row, _ref, field, reason in report.errors:
            assert isinstance(row, int) and field and reason
        children, records, vault = _counts(reg)
        assert children == records == vault  # every child whole
    return outcomes


def test_generated_broken_files_never_crash_the_import(sqlite_registry, tmp_path):
    outcomes = _fuzz(sqlite_registry, tmp_path, 60, seed=11)
    assert outcomes["imported"] and outcomes["rejected"]


@pytest.mark.slow
def test_many_generated_broken_files_never_crash_the_import(registry, tmp_path):
    outcomes = _fuzz(registry, tmp_path, 300, seed=29)
    assert outcomes["imported"] and outcomes["rejected"]
