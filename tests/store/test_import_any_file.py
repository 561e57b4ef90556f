"""The import survives any file: other encodings, fake or broken spreadsheets, cut-off, binary, huge fields,
wrong or empty sheets, empty files. Each ends with file, row, field and reason; the report leaks nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from registry.identity.national_id import egyptian_id_facts, make_egyptian_id
from registry.services import importing
from registry.services.importing import FileRejected, import_file
from registry.store.models import CaseRecord
from registry.synth import IMPORT_COLUMNS, generate

HEADER = ["source_ref", "given_name", "father_name", "family_name", "sex", "date_of_birth", "governorate"]
ROWS = [
    ["A-1", "محمد", "خالد", "الحلبي", "ذكر", "2015-03-07", "حلب"],
    ["A-2", "فاطمة", "عمر", "الشامي", "أنثى", "2016-05-01", "دمشق"],
    ["A-3", "Omar", "Hassan", "El-Masry", "M", "2014", "Giza"],
]


def _csv_text(rows, header=HEADER, delimiter=",") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _stored(reg) -> set[str]:
    with reg.db.unit_of_work() as s:
        return set(s.scalars(select(CaseRecord.source_ref)))


def _given_name(reg, ref: str) -> str:
    with reg.db.unit_of_work() as s:
        rec = s.scalars(select(CaseRecord).where(CaseRecord.source_ref == ref)).one()
        return reg.vault.open(s, rec.record_id).given_name


@pytest.fixture
def reg(sqlite_registry):
    return sqlite_registry


# ---- encodings ---------------------------------------------------------------------------------------------


def test_windows_1256_is_detected_and_read_right(reg, tmp_path):
    path = tmp_path / "cp1256.csv"
    path.write_bytes(_csv_text(ROWS * 1).encode("cp1256"))
    report = import_file(reg, path, "ngo-1")
    assert (report.created, report.rejected) == (3, 0), report.errors
    assert report.encoding and "1256" in report.encoding
    assert _given_name(reg, "A-1") == "محمد"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_utf16_and_bom_files_tab_or_comma_separated_are_read(reg, tmp_path, encoding):
    path = tmp_path / "unicode.txt"
    path.write_bytes(_csv_text(ROWS, delimiter="\t").encode(encoding))  # Excel's "Unicode text"
    report = import_file(reg, path, "ngo-1")
    assert (report.created, report.rejected) == (3, 0), report.errors
    assert _given_name(reg, "A-2") == "فاطمة"


def test_invalid_utf8_rejects_the_row_and_names_the_field(reg, tmp_path):
    data = _csv_text(ROWS).encode("utf-8").replace("الشامي".encode(), b"\xd8\xa7\xff\xfe")
    path = tmp_path / "bad-utf8.csv"
    path.write_bytes(data)
    report = import_file(reg, path, "ngo-1")
    assert report.created == 2 and report.rejected == 1
    assert report.errors == [(3, "A-2", "family_name", "holds bytes that are not valid UTF-8 text")]


# ---- spreadsheets ------------------------------------------------------------------------------------------


def _xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_xlsx_numbers_and_dates_are_read_as_written(reg, tmp_path):
    nid = make_egyptian_id(dt.date(2015, 3, 7), "01", "M", 123)
    path = _xlsx(tmp_path / "l.xlsx", {"cases": [HEADER + ["national_id"],
                                                  ["B-1", "Omar", "Ali", "Said", "M", dt.date(2015, 3, 7), "EG-C",
                                                   int(nid)]]})
    report = import_file(reg, path, "ngo-1")
    assert (report.created, report.rejected) == (1, 0), report.errors


def test_the_first_sheet_with_a_reference_column_is_read_and_a_wrong_sheet_is_named(reg, tmp_path):
    path = _xlsx(tmp_path / "l.xlsx", {"notes": [], "summary": [["total", 3]], "cases": [HEADER, *ROWS]})
    report = import_file(reg, path, "ngo-1")
    assert report.created == 3 and report.sheet == "cases"
    with pytest.raises(FileRejected, match=r"l\.xlsx: has no sheet named 'other'"):
        import_file(reg, path, "ngo-1", sheet="other")
    with pytest.raises(FileRejected, match=r"sheet 'notes' is empty"):
        import_file(reg, path, "ngo-1", sheet="notes")
    with pytest.raises(FileRejected, match="no source_ref column"):
        import_file(reg, path, "ngo-1", sheet="summary")
    only_junk = _xlsx(tmp_path / "j.xlsx", {"a": [["x", "y"]], "b": []})
    with pytest.raises(FileRejected, match="no sheet has a source_ref column"):
        import_file(reg, only_junk, "ngo-1")
    empty = _xlsx(tmp_path / "e.xlsx", {"a": [], "b": []})
    with pytest.raises(FileRejected, match=r"e\.xlsx: the file is empty"):
        import_file(reg, empty, "ngo-1")


def _fake_xlsx_kinds(tmp_path: Path) -> dict[str, Path]:
    real = _xlsx(tmp_path / "real.xlsx", {"cases": [HEADER, *ROWS]}).read_bytes()
    kinds = {
        "text-renamed": _csv_text(ROWS).encode("utf-8"),
        "zip-without-workbook": None,
        "truncated": real[: len(real) // 2],
        "random-bytes": random.Random(1).randbytes(5000),
        "zip-header-only": b"PK\x03\x04" + bytes(100),
        "ole-header-only": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
    }
    out = {}
    for kind, data in kinds.items():
        p = tmp_path / f"{kind}.xlsx"
        if data is None:
            with zipfile.ZipFile(p, "w") as z:
                z.writestr("readme.txt", "not a workbook")
        else:
            p.write_bytes(data)
        out[kind] = p
    return out


def test_fake_and_broken_xlsx_files_are_rejected_with_file_and_reason(reg, tmp_path):
    for kind, path in _fake_xlsx_kinds(tmp_path).items():
        with pytest.raises(FileRejected) as caught:
            import_file(reg, path, "ngo-1")
        assert str(caught.value).startswith(f"{path.name}: "), kind
        assert "spreadsheet" in caught.value.reason, kind
    assert _stored(reg) == set()


# ---- cut, binary, huge, empty ------------------------------------------------------------------------------


def test_a_file_cut_mid_row_rejects_that_row_and_keeps_the_rest(reg, tmp_path):
    text = _csv_text(ROWS)
    path = tmp_path / "cut.csv"
    path.write_text(text[: text.index("Hassan") + 3], encoding="utf-8")
    report = import_file(reg, path, "ngo-1")
    assert report.created == 2
    assert report.errors == [(4, "A-3", "family_name", "missing: the row has 3 of 7 columns (was the file cut short?)")]


def test_a_file_cut_inside_a_quoted_value_stops_there_and_lists_what_was_committed(reg, tmp_path):
    rows = [[f"C-{i}", "Omar", "Ali", "Said", "M", "2015", "Giza"] for i in range(7)]
    rows[5][1] = 'Omar "the elder"'  # quoted by the writer
    text = _csv_text(rows)
    path = tmp_path / "cut.csv"
    path.write_text(text[: text.index("the elder")], encoding="utf-8")
    with pytest.raises(FileRejected) as caught:
        import_file(reg, path, "ngo-1", batch_size=2)
    report = caught.value.import_report
    assert str(caught.value).startswith("cut.csv, row 7: the file ends inside a quoted value")
    assert report.committed_rows == [2, 3, 4, 5, 6] and len(_stored(reg)) == 5
    out = tmp_path / "report.csv"
    report.write(out)
    lines = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert ["", "", "", "import stopped: " + str(caught.value)] in lines
    assert ["2-6", "", "", "committed before the import stopped"] in lines


def test_binary_and_empty_files_are_rejected(reg, tmp_path):
    binary = tmp_path / "b.csv"
    binary.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(FileRejected, match=r"b\.csv: .*binary"):
        import_file(reg, binary, "ngo-1")
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    with pytest.raises(FileRejected, match=r"e\.csv: the file is empty"):
        import_file(reg, empty, "ngo-1")
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n,,\n", encoding="utf-8")
    with pytest.raises(FileRejected, match="empty"):
        import_file(reg, blank, "ngo-1")
    header_only = tmp_path / "h.csv"
    header_only.write_text(",".join(HEADER) + "\n", encoding="utf-8")
    assert import_file(reg, header_only, "ngo-1").rows == 0


def test_a_field_over_the_csv_module_limit_rejects_its_row_only(reg, tmp_path):
    rows = [list(r) for r in ROWS]
    rows[1][1] = "ب" * 200_000  # over csv's default field_size_limit of 131,072
    path = tmp_path / "huge.csv"
    path.write_text(_csv_text(rows), encoding="utf-8")
    report = import_file(reg, path, "ngo-1")
    assert report.created == 2
    assert report.errors == [(3, "A-2", "given_name", "longer than 1000 characters")]


# ---- the report --------------------------------------------------------------------------------------------


def _identity_values(rows: list[dict[str, str]]) -> set[str]:
    """Every identity value in the rows, and what an Egyptian ID decodes to: none may reach the report."""
    out: set[str] = set()
    for row in rows:
        for col, value in row.items():
            # Coarse values are not identifying (and "SY-DI" is in a reason's own text).
            if col in ("institution", "source_ref", "sex", "governorate") or not value:
                continue
            out.add(value)
            out.update(part for part in value.split() if len(part) >= 4)
        nid = row.get("national_id", "")
        if len(nid) == 14 and nid.isdigit():
            try:
                born = egyptian_id_facts(nid).date_of_birth
            except ValueError:
                continue
            out.update({born.isoformat(), f"{born:%Y-%m}"})
    return {v for v in out if len(v) >= 4 and not v.isdigit() or len(v) > 4 and v.isdigit()} - {"unknown"}


def test_the_report_never_echoes_an_identity_value_and_is_private_and_formula_safe(reg, tmp_path):
    records = generate(300, seed=5, bad_row_rate=0.3).records
    rows = [{k: v or "" for k, v in r.row.items()} for r in records]
    # National IDs that contradict the row: the reason must not say what the digits decode to.
    for i, row in enumerate(rows[:40]):
        row["national_id"] = make_egyptian_id(dt.date(2015, 1 + i % 12, 1 + i % 28), "01", "M", i)
        row["governorate"], row["date_of_birth"], row["sex"] = "EG-GZ", "2012-06-06", "F"
    rows[50]["source_ref"] = "=HYPERLINK(\"http://x\",\"y\")"
    rows[51]["source_ref"] = "@SUM(A1)"
    rows[52]["given_name"] = "=1+1"
    path = tmp_path / "list.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, IMPORT_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    report = import_file(reg, path, None)
    assert report.rejected >= 40
    out = tmp_path / "list.csv.errors.csv"
    out.write_text("left from an older run")
    out.chmod(0o644)
    report.write(out)
    assert out.stat().st_mode & 0o777 == 0o600
    text = out.read_text(encoding="utf-8-sig")
    lines = list(csv.reader(text.splitlines()))
    said = "\n".join(cell for line in lines[1:] for cell in (line[2], line[3]))  # field and reason
    leaked = [v for v in _identity_values(rows) if v in said]
    assert leaked == []
    # The case reference column holds references only (a formula-looking one neutralised).
    assert {line[1] for line in lines[1:]} <= {r["source_ref"] for r in rows} | {""}
    for line in lines[1:]:
        for cell in line:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert "digits 2-7 encode a date of birth that differs from the record's" in text


# ---- the command line --------------------------------------------------------------------------------------


@pytest.fixture
def cli_home(tmp_path, monkeypatch):
    from registry.services.context import init_registry

    monkeypatch.setenv("REGISTRY_HOME", str(tmp_path / "home"))
    for name in ("REGISTRY_DATABASE_URL", "REGISTRY_KEY_DIR", "REGISTRY_VAULT_MASTER_KEYS",
                 "REGISTRY_LINKAGE_KEY", "REGISTRY_AUDIT_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    reg, _ = init_registry()
    yield reg
    reg.close()


def _run_import(path: Path, *extra: str):
    from registry.cli import app

    return CliRunner().invoke(app, ["import", str(path), "-i", "ngo-1", *extra])


def test_cli_exit_codes_and_the_report_in_every_case(cli_home, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(_csv_text(ROWS), encoding="utf-8")
    result = _run_import(good)
    assert result.exit_code == 0, result.output
    rows = [list(r) for r in ROWS] + [["A-4", "Omar", "Ali", "Said", "M", "2015-13-01", "Giza"]]
    bad_row = tmp_path / "bad-row.csv"
    bad_row.write_text(_csv_text(rows), encoding="utf-8")
    result = _run_import(bad_row)
    assert result.exit_code == 2 and "1 rejected" in result.output  # bad input: named in the report
    report = Path(str(bad_row) + ".errors.csv")
    assert report.stat().st_mode & 0o777 == 0o600
    assert "5,A-4,date_of_birth,the month does not exist (1-12)" in report.read_text(encoding="utf-8-sig")
    fake = _fake_xlsx_kinds(tmp_path)["truncated"]
    result = _run_import(fake)
    assert result.exit_code == 1 and "truncated.xlsx" in result.output and "Traceback" not in result.output
    assert Path(str(fake) + ".errors.csv").exists()


def test_cli_stops_on_an_internal_error_with_its_kind_only_and_lists_committed_rows(cli_home, tmp_path,
                                                                                    monkeypatch):
    from registry.identity import vault as vault_module

    rows = [[f"D-{i}", "Omar", "Ali", "Said", "M", "2015", "Giza"] for i in range(700)]
    path = tmp_path / "big.csv"
    path.write_text(_csv_text(rows), encoding="utf-8")
    real = vault_module.Vault.sealed
    calls = []

    def failing(self, record_id, *args):
        calls.append(1)
        if len(calls) > 500:
            raise OSError("disk full at /secret/path Omar")
        return real(self, record_id, *args)

    monkeypatch.setattr(vault_module.Vault, "sealed", failing)
    monkeypatch.setattr(importing, "BATCH_ROWS", 500)
    result = _run_import(path)
    assert result.exit_code == 1
    assert "internal error (OSError)" in result.output and "secret" not in result.output
    text = Path(str(path) + ".errors.csv").read_text(encoding="utf-8-sig")
    assert "2-501,,,committed before the import stopped" in text
    with cli_home.db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(CaseRecord)) == 500


def test_cli_interrupted_before_the_import_began_says_so_without_a_traceback(cli_home, tmp_path, monkeypatch):
    """Ctrl-C while the progress bar is being set up (before import_file runs): nothing imported, an empty
    report, the interrupted exit code and its message, no traceback."""
    import importlib

    cli_main = importlib.import_module("registry.cli.main")  # the package's `main` is the entry function
    path = tmp_path / "some.csv"
    path.write_text(_csv_text(ROWS), encoding="utf-8")

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "progress_bar", interrupted)
    result = _run_import(path)
    assert result.exit_code == cli_main.EXIT_INTERRUPTED, result.output
    assert "interrupted" in result.output and "Traceback" not in result.output
    assert "0 rows: 0 new" in result.output
    assert Path(str(path) + ".errors.csv").exists()
    with cli_home.db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(CaseRecord)) == 0
