"""Bulk import of an institution's existing case list (CSV in any encoding, XLSX, XLS or ODS).

- Any file ends either imported or with a message naming the file, the row, the field and the reason
  (`FileRejected`); a bad row is rejected into the report, never a traceback. Text is decoded by its BOM,
  as UTF-8, or as detected by charset-normalizer (Windows-1256, UTF-16...); spreadsheets are read with
  python-calamine, by their content rather than their name.
- The error report never holds a value from the file: row, case reference, field, reason. It is written
  0600 and every cell is neutralised against formula (CSV) injection.

- Idempotent: a row whose (source_ref, content) is already stored changes nothing.
- Bad rows are rejected one by one into a report (row number, source_ref, field, reason); good rows go in.
- Rows are committed in batches, each in one transaction: a crash or Ctrl-C mid-file leaves every child
  either fully written (vault, pointer, encodings) or not at all, and a re-run completes the file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from registry.errors import InvalidInput
from registry.files import write_private
from registry.identity.model import Identity, validate_identity
from registry.names.text import clean_text
from registry.services.access import record_admin
from registry.services.context import Registry
from registry.services.registration import (
    NewRecord,
    erased_reference,
    insert_new_records,
    prepare_record,
    register_records,
)
from registry.store.models import CaseRecord

if TYPE_CHECKING:
    from multiprocessing.pool import Pool

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


MAX_FIELD_CHARS = 1000  # far above any identity field (names: 120); a longer cell is refused, not stored
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
# OWASP CSV injection: a cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept as lone surrogates on decoding
_REF_SHOWN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-./:#]{0,63}")


def neutralise_cell(value: object) -> str:
    """A cell that a spreadsheet program will show as text, never run as a formula (OWASP: prefix with ')."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def shown_reference(value: object) -> str:
    """The case reference as the report may show it: only when it looks like a reference (letters, digits and
    - . / : #). Anything else (a name typed into the wrong column, binary junk) is left out."""
    text = clean_text(value) if isinstance(value, str) else ""
    return text if _REF_SHOWN.fullmatch(text) else ""


def _ranges(numbers: list[int]) -> list[str]:
    out: list[tuple[int, int]] = []
    for n in sorted(set(numbers)):
        if out and out[-1][1] == n - 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return [f"{a}" if a == b else f"{a}-{b}" for a, b in out]


@dataclass
class ImportReport:
    """What an import did. `errors` are (row, case reference, field, reason): never a value from the row."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[tuple[int, str, str, str]] = field(default_factory=list)  # row, source_ref, field, reason
    ignored_columns: list[str] = field(default_factory=list)
    committed_rows: list[int] = field(default_factory=list)  # spreadsheet rows stored (new, updated or unchanged)
    encoding: str | None = None  # the text encoding a CSV file was read in
    sheet: str | None = None  # the sheet a spreadsheet was read from
    failure: str | None = None  # why the import stopped before the end of the file, if it did

    def write(self, path: Path) -> None:
        """The error report (CSV, UTF-8 with BOM for Excel), mode 0600, written whole or not at all.

        One line per rejected field: row, case reference, field, reason. If the import stopped early, a line
        says where and why, and the rows committed before it are listed (as ranges). Every cell is neutralised
        against formula injection."""
        lines: list[list[object]] = [["row", "source_ref", "field", "reason"]]
        lines += [list(e) for e in self.errors]
        if self.failure is not None:
            lines.append(["", "", "", f"import stopped: {self.failure}"])
            for span in _ranges(self.committed_rows):
                lines.append([span, "", "", "committed before the import stopped"])
            if not self.committed_rows:
                lines.append(["", "", "", "no row was committed"])
        buf = io.StringIO()
        csv.writer(buf).writerows([[neutralise_cell(c) for c in line] for line in lines])
        write_private(Path(path), "\ufeff" + buf.getvalue())


class FileRejected(ValueError):
    """The file cannot be imported, as a whole or from one row on: the message names the file, the row and the
    field where known, and the reason. Never a value from the file."""

    def __init__(self, file: str, reason: str, row: int | None = None, column: str | None = None):
        self.file, self.reason, self.row, self.column = file, reason, row, column
        where = "".join([f", row {row}" if row is not None else "", f", field {column}" if column else ""])
        super().__init__(f"{file}{where}: {reason}")


# ---- reading any file into rows ------------------------------------------------------------------------------


@dataclass
class Table:
    """A file's rows: our column names (unknown headers as "?header") and (row number, values) pairs."""

    names: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str | None = None
    sheet: str | None = None


def _legacy_text(data: bytes, name: str) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise FileRejected(name, "not text in any encoding we can tell (is it a binary file?): save the list "
                                 "as CSV (UTF-8) or XLSX")
    return str(best), best.encoding


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read in.

    BOM first (UTF-8, UTF-16, UTF-32), then strict UTF-8. Text that is mostly valid UTF-8 with a few bad bytes
    stays UTF-8: the bad bytes become U+DC80..U+DCFF, and the rows holding them are rejected by field.
    Anything else (Windows-1256, ISO-8859-6, UTF-16 without a BOM...) is detected with charset-normalizer."""
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
                     (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError:
                raise FileRejected(name, f"starts as {enc} but is not valid {enc} text (cut short or damaged)") \
                    from None
    sample = data[:4096]
    nuls = sample.count(0)
    if nuls > len(sample) // 8:  # UTF-16 without a BOM: every other byte of ASCII text is NUL
        enc = "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            pass  # binary: found out below
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="surrogateescape")
    bad = sum(1 for ch in text if "\udc80" <= ch <= "\udcff")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    if good > 0 and bad <= good // 4 + 2:
        return text, "utf-8 (with invalid bytes)"
    return _legacy_text(data, name)


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    if "\x00" in sample:
        return True
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    return controls > max(8, len(sample) // 100)


def _read_text_table(path: Path, data: bytes) -> Table:
    name = path.name
    text, encoding = decode_text(data, name)
    if _looks_binary(text):
        raise FileRejected(name, "binary content, not a text (CSV) file: save the list as CSV (UTF-8) or XLSX")
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count) if first_line else ","
    # One field may be as long as the file (the length is checked per field below, with its row and name).
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter, strict=True)

    def records() -> Iterator[tuple[int, list[str]]]:
        number = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                reason = ("the file ends inside a quoted value: it was cut short, or a quote is unbalanced"
                          if "end of data" in str(e) else "the CSV is malformed here (quotes or delimiters)")
                raise FileRejected(name, reason, row=number + 1) from None
            number += 1
            yield number, values

    return _with_header(name, records(), encoding=encoding)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _read_sheet_table(path: Path, sheet: str | None) -> Table:
    import python_calamine

    name = path.name
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        sheets = [m.name for m in workbook.sheets_metadata
                  if str(getattr(m, "visible", "Visible")).endswith("Visible")] or list(workbook.sheet_names)
    except Exception as e:  # noqa: BLE001 - calamine raises several kinds; only the kind is shown
        raise FileRejected(name, f"cannot be read as a spreadsheet ({type(e).__name__}): the file is damaged, "
                                 "encrypted, or not really a spreadsheet") from None
    if sheet is not None:
        chosen = [s for s in workbook.sheet_names if s.strip().casefold() == sheet.strip().casefold()]
        if not chosen:
            raise FileRejected(name, f"has no sheet named {sheet!r} (it has {len(workbook.sheet_names)} sheets: "
                                     f"{', '.join(map(repr, workbook.sheet_names[:20]))})")
        sheets = chosen
    empty, tried = [], []
    for sheet_name in sheets:
        try:
            values = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        except Exception as e:  # noqa: BLE001
            raise FileRejected(name, f"sheet {sheet_name!r} cannot be read ({type(e).__name__}): the file is "
                                     "damaged") from None
        if not any(any(_cell(v).strip() for v in row) for row in values):
            empty.append(sheet_name)
            continue
        rows = iter([(i + 1, [_cell(v) for v in row]) for i, row in enumerate(values)])
        try:
            return _with_header(name, rows, sheet=sheet_name)
        except FileRejected as e:
            if sheet is not None or "source_ref" not in e.reason:
                raise
            tried.append(sheet_name)
    if tried:
        raise FileRejected(name, "no sheet has a source_ref column (the institution's local case reference); "
                                 f"sheets read: {', '.join(map(repr, tried))}")
    raise FileRejected(name, "the file is empty (no sheet holds any row)" if not sheet
                       else f"sheet {sheet!r} is empty")


def _with_header(name: str, records: Iterator[tuple[int, list[str]]], encoding: str | None = None,
                 sheet: str | None = None) -> Table:
    header: list[str] | None = None
    header_row = 0
    for number, values in records:
        if any(str(v).strip() for v in values):
            header, header_row = values, number
            break
    if header is None:
        raise FileRejected(name, "the file is empty (no header row)" if sheet is None
                           else f"sheet {sheet!r} is empty")
    mapped = [_HEADER_MAP.get(_header_key(str(h or "")[:100]), "") for h in header]
    if "source_ref" not in mapped:
        raise FileRejected(name, "no source_ref column (the institution's local case reference) in the header "
                                 f"row {header_row}" + (f" of sheet {sheet!r}" if sheet else ""))
    names = [m or f"?{clean_text(str(h))[:40]}" for m, h in zip(mapped, header)]
    return Table(names, records, encoding=encoding, sheet=sheet)


def read_table(path: Path, sheet: str | None = None) -> Table:
    """Any file, by its content rather than its name: text (any encoding) as CSV, or a spreadsheet.
    FileRejected (file, row, field, reason) for everything that cannot be read."""
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES + SHEET_SUFFIXES:
        raise FileRejected(name, "only .csv, .xlsx, .xls and .ods files can be imported")
    try:
        with open(path, "rb") as f:
            head = f.read(8)
        size = path.stat().st_size
    except OSError as e:
        raise FileRejected(name, f"cannot be read ({e.strerror})") from None
    if size == 0:
        raise FileRejected(name, "the file is empty (0 bytes)")
    is_zip, is_ole = head.startswith(b"PK\x03\x04"), head.startswith(b"\xd0\xcf\x11\xe0")
    if suffix in SHEET_SUFFIXES:
        if not (is_zip or is_ole):
            raise FileRejected(name, f"is named {suffix} but is not a spreadsheet (no XLSX/XLS/ODS signature): "
                                     "save it again from the spreadsheet program")
        return _read_sheet_table(path, sheet)
    if is_zip or is_ole:
        raise FileRejected(name, "is a spreadsheet or archive named .csv: give it its real name (.xlsx, .xls)")
    return _read_text_table(path, path.read_bytes())


Row = tuple[int, list[str]]  # the row number as a spreadsheet shows it, the row's values


def read_rows(path: Path, sheet: str | None = None) -> tuple[Table, Iterator[Row]]:
    """The table (column names mapped to ours, encoding, sheet) and (row number, values) for each non-blank row.
    `_row_or_problem` turns the values into a row, or says why they cannot be one."""
    table = read_table(path, sheet)

    def rows() -> Iterator[Row]:
        for number, values in table.rows:
            if any(str(v).strip() for v in values):
                yield number, values

    return table, rows()


def _plain(row: dict[str, str]) -> bool:
    """No field too long, and no field holding bytes that were not UTF-8 or a NUL: the checks below, made on
    the whole row at once (almost every row passes them)."""
    if max(map(len, row.values()), default=0) > MAX_FIELD_CHARS:
        return False
    joined = "".join(row.values())
    return "\x00" not in joined and not _NOT_UTF8.search(joined)


@dataclass(frozen=True)
class FieldProblem:
    source_ref: str
    field: str
    reason: str


def _row_or_problem(names: list[str], values: list[str]) -> dict[str, str] | FieldProblem:
    row = {n: v for n, v in zip(names, values) if not n.startswith("?")}
    if len(values) == len(names) and _plain(row):
        return row
    ref = shown_reference(row.get("source_ref", ""))
    if len(values) < len(names):
        missing = next((n for n in names[len(values):] if not n.startswith("?")), names[len(values)])
        return FieldProblem(ref, missing, f"missing: the row has {len(values)} of {len(names)} columns "
                                          "(was the file cut short?)")
    if len(values) > len(names) and any(str(v).strip() for v in values[len(names):]):
        return FieldProblem(ref, "(row)", f"the row has {len(values)} values but the header has {len(names)} columns")
    for column, value in row.items():
        if len(value) > MAX_FIELD_CHARS:
            return FieldProblem(ref, column, f"longer than {MAX_FIELD_CHARS} characters")
        if _NOT_UTF8.search(value):
            return FieldProblem(ref, column, "holds bytes that are not valid UTF-8 text")
        if "\x00" in value:
            return FieldProblem(ref, column, "holds a NUL character")
    return row


# An import prepares rows (validation, keyed digest, sealing, encoding: the CPU-heavy part) in worker processes
# once the file has shown itself long enough to be worth starting them; the database writes stay in this
# process, one transaction per batch, so crash safety is the same with or without workers.
POOL_AFTER_ROWS = 4000
# Rows per transaction. A commit writes every page the transaction changed, and the linkage index's keys are
# random: 500 rows touch most of its index pages, so each commit rewrote them all. 5,000 rows a transaction
# write them a tenth as often. Each batch is still whole, and a re-run still completes an interrupted file.
BATCH_ROWS = 5000
# How many batches may be prepared ahead of the one being written: the workers are not left idle while this
# process writes.
BATCHES_AHEAD = 2
# SQLite's page cache on the import's connection, in KiB (the default is 2 MiB): the index pages of a registry
# of a few hundred thousand children stay in memory between batches instead of being read back. Memory only:
# what is written, and when it is durable, does not change.
IMPORT_CACHE_KIB = 256 * 1024


def import_file(
    reg: Registry,
    path: Path,
    institution: str | None,
    batch_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    sheet: str | None = None,
    workers: int | None = None,
    pool_after_rows: int = POOL_AFTER_ROWS,
) -> ImportReport:
    """Import one file. `institution` is the importing agency; None takes each row's institution column
    (a system administrator loading several agencies' lists at once). `workers`: processes preparing rows
    (default: the machine's cores; 1 prepares in this process), started once `pool_after_rows` rows were read.
    `batch_size`: rows per transaction (default BATCH_ROWS).

    FileRejected when the file (or the file from some row on) cannot be read; rows before that row are
    committed. Whatever stops the import (FileRejected, an interruption, an internal error) carries what was
    done so far as its `import_report` attribute, so that the report can be written all the same."""
    report = ImportReport()
    workers = workers if workers is not None else (os.cpu_count() or 1)
    try:
        with _Preparer(reg, institution, workers, pool_after_rows) as prepare, _import_connection(reg) as conn:
            return _import(reg, conn, Path(path), institution, batch_size or BATCH_ROWS, progress, sheet, report,
                           prepare)
    except BaseException as e:
        if report.failure is None:
            interrupted = isinstance(e, KeyboardInterrupt)
            report.failure = "interrupted" if interrupted else f"internal error ({type(e).__name__})"
        e.import_report = report  # type: ignore[attr-defined]
        raise


@contextmanager
def _import_connection(reg: Registry) -> Iterator[Connection]:
    """The connection every batch of an import is written through (one transaction per batch). On SQLite it
    gets a larger page cache, and is closed at the end rather than handed back to the pool with it."""
    with reg.db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
            conn.commit()
        try:
            yield conn
        finally:
            if sqlite:
                conn.invalidate()  # its memory goes with it; the pool opens a plain connection when next asked


Batch = list[Row]
_worker_registry: Registry | None = None  # set in the parent before the workers fork: they inherit it


class Rejected(NamedTuple):
    """A row that cannot be stored: its case reference as the report may show it, and (field, reason) pairs."""

    source_ref: str
    problems: tuple[tuple[str, str], ...]


def _row_identity(names: list[str], values: list[str], institution: str | None) -> Identity | Rejected:
    """A row's values validated into an identity, or why they cannot be one."""
    row = _row_or_problem(names, values)
    if isinstance(row, FieldProblem):
        return Rejected(row.source_ref, ((row.field, row.reason),))
    try:
        return validate_identity(row, institution=institution)
    except InvalidInput as e:
        # Field and reason only: the reasons name what is wrong, never the value (see identity.model).
        return Rejected(shown_reference(row.get("source_ref")), tuple((err.field, err.reason) for err in e.errors))


def _prepare_chunk(institution: str | None, names: list[str], rows: list[list[str]],
                   reg: Registry | None = None) -> list[NewRecord | Rejected]:
    """Rows (values) validated and, when valid, prepared as new records (ids, digest, sealed identity,
    encodings: `prepare_record`). In a worker, with the registry it inherited."""
    reg = reg or _worker_registry
    assert reg is not None
    out: list[NewRecord | Rejected] = []
    for values in rows:
        identity = _row_identity(names, values, institution)
        out.append(identity if isinstance(identity, Rejected) else prepare_record(reg, identity))
    return out


class _Preparer:
    """prepare(names, batch) -> a handle whose get() gives each row's preparation, in order. In this process at
    first; in a pool of forked workers from `after_rows` rows on (they start with the registry's keys in
    memory, as this process has them, and never touch the database)."""

    def __init__(self, reg: Registry, institution: str | None, workers: int, after_rows: int):
        self.reg, self.institution, self.workers, self.after_rows = reg, institution, workers, after_rows
        self.seen = 0
        self.pool: Pool | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        global _worker_registry
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
        _worker_registry = None

    def __call__(self, names: list[str], batch: Batch):
        global _worker_registry
        self.seen += len(batch)
        rows = [values for _, values in batch]
        if self.workers <= 1 or self.seen <= self.after_rows:  # prepared when asked for, in this process
            return _Done(lambda: _prepare_chunk(self.institution, names, rows, self.reg))
        if self.pool is None:
            import multiprocessing

            _worker_registry = self.reg
            self.pool = multiprocessing.get_context("fork").Pool(self.workers)
        size = -(-len(rows) // (self.workers * 2))
        chunks = [rows[i:i + size] for i in range(0, len(rows), size)]
        handles = [self.pool.apply_async(_prepare_chunk, (self.institution, names, chunk)) for chunk in chunks]
        return _Done(lambda: [item for h in handles for item in h.get()])


@dataclass
class _Done:
    """A batch's preparation; get() waits for it (a worker's exception is raised here, in batch order)."""

    compute: Callable[[], list]

    def get(self) -> list:
        return self.compute()


def _import(reg: Registry, conn: Connection, path: Path, institution: str | None, batch_size: int,
            progress: Callable[[int], None] | None, sheet: str | None, report: ImportReport,
            prepare: _Preparer) -> ImportReport:
    try:
        table, rows = read_rows(path, sheet)
    except FileRejected as e:
        report.failure = str(e)
        raise
    names = table.names
    report.encoding, report.sheet = table.encoding, table.sheet
    if institution is None and "institution" not in names:
        report.failure = f"{path.name}: no institution column, and no --institution given"
        raise FileRejected(path.name, "no institution column, and no --institution given")
    report.ignored_columns = [n[1:] for n in names if n.startswith("?")]
    seen_in_file: dict[tuple[str, str], int] = {}

    def batches() -> Iterator[tuple[Batch, FileRejected | None]]:
        batch: Batch = []
        try:
            for row in rows:
                batch.append(row)
                if len(batch) >= batch_size:
                    yield batch, None
                    batch = []
        except FileRejected as e:  # the rows read before the bad one are whole and valid: they go in, and are listed
            yield batch, e
            return
        if batch:
            yield batch, None

    def write(batch: Batch, prepared: _Done, stop: FileRejected | None) -> None:
        if batch:
            _import_batch(reg, conn, batch, prepared.get(), report, seen_in_file, names, institution)
            if progress:
                progress(len(batch))
        if stop is not None:
            report.failure = str(stop)
            raise stop

    # Batches are prepared ahead while the oldest one is written, in file order.
    in_flight: deque[tuple[Batch, _Done, FileRejected | None]] = deque()
    for batch, stop in batches():
        in_flight.append((batch, prepare(names, batch), stop))
        if len(in_flight) > BATCHES_AHEAD:
            write(*in_flight.popleft())
    while in_flight:
        write(*in_flight.popleft())
    return report


def _import_batch(reg: Registry, conn: Connection, batch: Batch, prepared: list[NewRecord | Rejected],
                  report: ImportReport, seen_in_file: dict[tuple[str, str], int], names: list[str],
                  institution: str | None) -> None:
    valid: list[tuple[int, list[str], NewRecord]] = []
    for (row_number, values), outcome in zip(batch, prepared):
        report.rows += 1
        if isinstance(outcome, Rejected):
            report.rejected += 1
            report.errors.extend((row_number, outcome.source_ref, f, reason) for f, reason in outcome.problems)
            continue
        key = (outcome.institution, outcome.source_ref)
        if key in seen_in_file:
            report.rejected += 1
            report.errors.append((row_number, shown_reference(outcome.source_ref), "source_ref",
                                  f"already used in row {seen_in_file[key]} of this file"))
            continue
        seen_in_file[key] = row_number
        valid.append((row_number, values, outcome))
    if not valid:
        return
    counted = dict.fromkeys(("created", "updated", "unchanged"), 0)
    stored_rows: list[int] = []
    with Session(bind=conn, expire_on_commit=False) as session, session.begin():
        stored = _stored_records(reg, session, [(new.institution, new.source_ref) for _, _, new in valid])
        created: list[NewRecord] = []
        changed: list[tuple[Identity, CaseRecord | None]] = []
        touched: list[str] = []  # children registered or changed, in file order
        for row_number, values, new in valid:
            rec = stored.get((new.institution, new.source_ref))
            if rec is not None and rec.status == "erased":
                report.rejected += 1
                report.errors.append((row_number, shown_reference(new.source_ref), "source_ref",
                                      "this record was erased at the child's request and cannot be registered "
                                      "again under the same reference"))
                continue
            stored_rows.append(row_number)
            if rec is None:
                created.append(new)
                touched.append(new.child_id)
                counted["created"] += 1
            elif rec.content_digest == new.digest:
                counted["unchanged"] += 1
            else:  # rare: validated again here, to re-seal it under its own record id
                identity = _row_identity(names, values, institution)
                assert isinstance(identity, Identity)
                changed.append((identity, session.get_one(CaseRecord, rec.record_id)))
                touched.append(rec.child_id)
                counted["updated"] += 1
        insert_new_records(session, created)
        register_records(reg, session, changed)
        # One audit event per batch, naming the children it registered or changed, committed with them.
        if touched:
            record_admin(reg, "import", tuple(touched), session=session)
    # Counted once the batch is committed: the report never claims rows that a failed commit lost.
    for kind, n in counted.items():
        setattr(report, kind, getattr(report, kind) + n)
    report.committed_rows.extend(stored_rows)


# Built once: the references are one expanding parameter (a list), not a literal each to coerce and compile.
_STORED = select(CaseRecord.record_id, CaseRecord.child_id, CaseRecord.institution, CaseRecord.source_ref,
                 CaseRecord.content_digest, CaseRecord.status).where(
    CaseRecord.institution == bindparam("institution"), CaseRecord.source_ref.in_(bindparam("refs", expanding=True)))
_REFS_PER_QUERY = 1000


def _stored_records(reg: Registry, session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The stored records (plain rows) for a batch's (institution, source_ref) pairs, erased ones included (an
    erased record's reference is a keyed fingerprint of the old one): one query per institution and 1,000
    references, on the unique (institution, source_ref) index."""
    wanted: dict[tuple[str, str], tuple[str, str]] = {}
    for inst, ref in keys:
        wanted[(inst, ref)] = (inst, ref)
        wanted[(inst, erased_reference(reg, inst, ref))] = (inst, ref)
    refs_of: dict[str, list[str]] = {}
    for inst, ref in wanted:
        refs_of.setdefault(inst, []).append(ref)
    found: dict[tuple[str, str], Any] = {}
    for inst, refs in refs_of.items():
        for i in range(0, len(refs), _REFS_PER_QUERY):
            part = refs[i:i + _REFS_PER_QUERY]
            for rec in session.execute(_STORED, {"institution": inst, "refs": part}):
                key = wanted[(rec.institution, rec.source_ref)]
                if key not in found or rec.status == "erased":  # an erased record decides
                    found[key] = rec
    return found
