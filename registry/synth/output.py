"""Writing generated rows for import (CSV or XLSX) and their truth to a separate CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from registry.synth.generator import (
    IMPORT_COLUMNS,
    TRUTH_COLUMNS,
    SynthConfig,
    SynthRecord,
    iter_records,
    list_institutions,
)


def write_csv(
    path: str | Path,
    n: int,
    seed: int = 0,
    truth_path: str | Path | None = None,
    *,
    countries: Sequence[str] = ("SY", "EG"),
    bad_row_rate: float = 0.0,
    config: SynthConfig | None = None,
    institutions_path: str | Path | None = None,
) -> int:
    """Stream n rows to `path` (UTF-8 CSV with a header, or XLSX if it ends in .xlsx) and the truth to
    `truth_path`; optionally the institutions (code, country, governorate, script) to `institutions_path`.
    Returns the number of rows written."""
    if institutions_path:
        with open(institutions_path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(("code", "country", "governorate", "script"))
            w.writerows((i.code, i.country, i.governorate, i.script) for i in list_institutions(seed, countries))
    records = iter_records(n, seed, countries, bad_row_rate=bad_row_rate, config=config)
    if str(path).endswith(".xlsx"):
        return write_xlsx(path, records, truth_path)
    with open(path, "w", encoding="utf-8", newline="") as out, _truth_file(truth_path) as truth:
        rows = csv.DictWriter(out, IMPORT_COLUMNS, lineterminator="\n")
        rows.writeheader()
        truths = csv.DictWriter(truth, TRUTH_COLUMNS, lineterminator="\n") if truth else None
        if truths:
            truths.writeheader()
        count = 0
        for rec in records:
            rows.writerow(rec.row)
            if truths:
                truths.writerow(rec.truth())
            count += 1
    return count


def write_xlsx(path: str | Path, records: Iterable[SynthRecord], truth_path: str | Path | None = None) -> int:
    """Rows to an XLSX sheet (openpyxl write-only mode, so memory stays flat), truth to CSV."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("children")
    ws.append(list(IMPORT_COLUMNS))
    count = 0
    with _truth_file(truth_path) as truth:
        truths = csv.DictWriter(truth, TRUTH_COLUMNS, lineterminator="\n") if truth else None
        if truths:
            truths.writeheader()
        for rec in records:
            ws.append([rec.row[c] for c in IMPORT_COLUMNS])
            if truths:
                truths.writerow(rec.truth())
            count += 1
    wb.save(path)
    return count


class _truth_file:
    """Open the truth CSV if a path was given; a no-op context otherwise."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = path
        self.f = None

    def __enter__(self):
        if self.path:
            self.f = open(self.path, "w", encoding="utf-8", newline="")
        return self.f

    def __exit__(self, *exc: object) -> None:
        if self.f:
            self.f.close()
