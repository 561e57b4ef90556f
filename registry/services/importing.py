"""Bulk import of an institution's existing case list (CSV or XLSX).

- Idempotent: a row whose (source_ref, content) is already stored changes nothing.
- Bad rows are rejected one by one into a report (row number, source_ref, field, reason); good rows go in.
- Rows are committed in batches, each in one transaction: a crash or Ctrl-C mid-file leaves every child
  either fully written (vault, pointer, encodings) or not at all, and a re-run completes the file.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, tuple_

from registry.errors import Conflict, InvalidInput
from registry.identity.model import validate_identity
from registry.names.text import clean_text
from registry.services.access import record_admin
from registry.services.context import Registry
from registry.services.registration import erased_reference, register_records
from registry.store.models import CaseRecord

COLUMNS = (
    "institution", "source_ref", "given_name", "father_name", "grandfather_name", "family_name", "mother_given_name",
    "mother_family_name", "full_name", "sex", "date_of_birth", "governorate", "place_of_birth", "national_id",
)

# Headers as Syrian and Egyptian forms write them. Keys are compared after light folding (see _header_key).
ARABIC_HEADERS = {
    "المؤسسة": "institution", "الجهة": "institution",
    "المرجع": "source_ref", "رقم الحالة": "source_ref", "الرقم المرجعي": "source_ref", "رقم الملف": "source_ref",
    "الاسم": "given_name", "الاسم الأول": "given_name", "اسم الطفل": "given_name",
    "اسم الأب": "father_name", "اسم الجد": "grandfather_name",
    "الكنية": "family_name", "اسم العائلة": "family_name", "اللقب": "family_name", "العائلة": "family_name",
    "اسم الأم": "mother_given_name", "كنية الأم": "mother_family_name", "عائلة الأم": "mother_family_name",
    "الاسم الكامل": "full_name", "الاسم الثلاثي": "full_name", "الاسم الرباعي": "full_name",
    "الجنس": "sex", "تاريخ الميلاد": "date_of_birth", "تاريخ الولادة": "date_of_birth",
    "المحافظة": "governorate", "مكان الولادة": "place_of_birth", "محل الميلاد": "place_of_birth",
    "مكان الميلاد": "place_of_birth", "الرقم الوطني": "national_id", "الرقم القومي": "national_id",
}


def _header_key(text: str) -> str:
    t = clean_text(text).lower().strip().replace(" ", "_").replace("-", "_")
    return t.translate(str.maketrans("أإآ", "ااا"))


_HEADER_MAP = {_header_key(c): c for c in COLUMNS} | {_header_key(k): v for k, v in ARABIC_HEADERS.items()}


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[tuple[int, str, str, str]] = field(default_factory=list)  # row, source_ref, field, reason
    ignored_columns: list[str] = field(default_factory=list)

    def write(self, path: Path) -> None:
        with open(path, "w", newline="", encoding="utf-8-sig") as f:
            w = csv.writer(f)
            w.writerow(["row", "source_ref", "field", "reason"])
            w.writerows(self.errors)


class FileRejected(ValueError):
    """The file as a whole cannot be imported (format, missing required column)."""


def read_rows(path: Path) -> tuple[list[str], Iterator[dict[str, str]]]:
    """Column names (mapped to ours) and the rows as dicts; rows are numbered as a spreadsheet shows them."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        f = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 (closed when the rows are done)
        close = f.close
        reader = csv.reader(f)
        header = next(reader, None)
        raw_rows: Iterator[list] = reader
    elif suffix in (".xlsx", ".xlsm"):
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        close = wb.close
        it = wb.active.iter_rows(values_only=True)
        header = next(it, None)
        raw_rows = ([("" if v is None else str(v)) for v in row] for row in it)
    else:
        raise FileRejected(f"{path.name}: only .csv and .xlsx files can be imported")
    if not header:
        close()
        raise FileRejected(f"{path.name}: the file is empty")
    mapped = [_HEADER_MAP.get(_header_key(str(h or "")), "") for h in header]
    if "source_ref" not in mapped:
        close()
        raise FileRejected(f"{path.name}: no source_ref column (the institution's local case reference)")
    names = [m or f"?{h}" for m, h in zip(mapped, header)]

    def rows() -> Iterator[dict[str, str]]:
        try:
            for values in raw_rows:
                if not any(str(v).strip() for v in values):
                    continue
                yield {n: v for n, v in zip(names, values) if not n.startswith("?")}
        finally:
            close()

    return names, rows()


def import_file(
    reg: Registry,
    path: Path,
    institution: str | None,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import one file. `institution` is the importing agency; None takes each row's institution column
    (a system administrator loading several agencies' lists at once)."""
    path = Path(path)
    names, rows = read_rows(path)
    if institution is None and "institution" not in names:
        raise FileRejected(f"{path.name}: no institution column, and no --institution given")
    report = ImportReport(ignored_columns=[n[1:] for n in names if n.startswith("?")])
    seen_in_file: dict[tuple[str, str], int] = {}
    batch: list[tuple[int, dict]] = []
    row_number = 1  # the header is row 1
    for row in rows:
        row_number += 1
        batch.append((row_number, row))
        if len(batch) >= batch_size:
            _import_batch(reg, institution, batch, report, seen_in_file)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        _import_batch(reg, institution, batch, report, seen_in_file)
        if progress:
            progress(len(batch))
    return report


def _import_batch(reg: Registry, institution: str | None, batch: list[tuple[int, dict]], report: ImportReport,
                  seen_in_file: dict[tuple[str, str], int]) -> None:
    valid = []
    for row_number, row in batch:
        report.rows += 1
        ref = clean_text(row.get("source_ref"))
        try:
            identity = validate_identity(row, institution=institution)
        except InvalidInput as e:
            report.rejected += 1
            report.errors.extend((row_number, ref, err.field, err.reason) for err in e.errors)
            continue
        key = (identity.institution, identity.source_ref)
        if key in seen_in_file:
            report.rejected += 1
            report.errors.append((row_number, ref, "source_ref",
                                  f"already used in row {seen_in_file[key]} of this file"))
            continue
        seen_in_file[key] = row_number
        valid.append((row_number, identity))
    if not valid:
        return
    with reg.db.unit_of_work() as session:
        existing = _existing_records(reg, session, [(i.institution, i.source_ref) for _, i in valid])
        try:  # refused (Conflict) before anything is written, so the batch stays whole
            results = register_records(reg, session, [(i, existing.get((i.institution, i.source_ref)))
                                                      for _, i in valid])
        except Conflict:
            results = None
        if results is None:  # some rows were erased records: report them, register the rest
            ok = []
            for row_number, identity in valid:
                rec = existing.get((identity.institution, identity.source_ref))
                if rec is not None and rec.status == "erased":
                    report.rejected += 1
                    report.errors.append((row_number, identity.source_ref, "source_ref",
                                          "this record was erased at the child's request and cannot be "
                                          "registered again under the same reference"))
                else:
                    ok.append((identity, rec))
            results = register_records(reg, session, ok)
        for result in results:
            setattr(report, result.outcome, getattr(report, result.outcome) + 1)
        # One audit event per batch, naming the children it registered or changed, committed with them.
        touched = tuple(r.child_id for r in results if r.outcome != "unchanged")
        if touched:
            record_admin(reg, "import", touched, session=session)


def _existing_records(reg: Registry, session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], CaseRecord]:
    """The stored records for a batch's (institution, source_ref) pairs, erased ones included, in one query."""
    wanted: dict[tuple[str, str], tuple[str, str]] = {}
    for inst, ref in keys:
        wanted[(inst, ref)] = (inst, ref)
        wanted[(inst, erased_reference(reg, inst, ref))] = (inst, ref)
    # Exact (institution, source_ref) pairs: references like "000123" recur across institutions.
    found = session.scalars(select(CaseRecord).where(tuple_(CaseRecord.institution, CaseRecord.source_ref)
                                                     .in_(list(wanted))))
    return {wanted[(rec.institution, rec.source_ref)]: rec for rec in found
            if (rec.institution, rec.source_ref) in wanted}
