"""Many rows written at once, as plain tuples straight to the database driver's executemany; and many rows read
the same way (`plain_rows`).

SQLAlchemy's executemany builds a parameter dictionary per row and walks every bound parameter of every row
(`construct_params`): for the hundreds of thousands of rows a first batch run writes (pairs, merges, moved
records, cluster assignments) that bookkeeping cost more than the database's own work. Here each column's
value is converted by the column's own type for the dialect, exactly as SQLAlchemy would convert it (so a
datetime is stored in the same form as through the ORM), and the rows go to the driver as tuples.

For bulk writes inside a use case's unit of work only; everything else goes through the ORM or Core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Executable, Table
from sqlalchemy.orm import Session

CHUNK = 5000  # rows per executemany call: bounded memory for the converted rows


def insert_rows(s: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """INSERT every row (values in the order of `columns`). Returns how many rows."""
    conn = s.connection()
    return _execute_many(s, insert_sql(conn.dialect, table, tuple(columns)), _converters(conn, table, columns), rows)


def insert_prepared(s: Session, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """INSERT rows whose values are already as the driver takes them (an import's rows, converted in its
    worker processes: `services.registration.driver_rows`)."""
    if rows:
        conn = s.connection()
        conn.exec_driver_sql(insert_sql(conn.dialect, table, tuple(columns)), rows)


@lru_cache(maxsize=64)
def insert_sql(dialect, table: Table, columns: tuple[str, ...]) -> str:
    prep = dialect.identifier_preparer
    names = ", ".join(prep.format_column(table.c[c]) for c in columns)
    return f"INSERT INTO {prep.format_table(table)} ({names}) VALUES ({', '.join([_mark(dialect)] * len(columns))})"


def update_rows(s: Session, table: Table, columns: Sequence[str], keys: Sequence[str],
                rows: Iterable[Sequence[Any]]) -> int:
    """UPDATE `columns` of the row whose `keys` match, for each row (the new values in the order of `columns`,
    then the keys' values). Returns how many rows were given (not how many matched)."""
    conn = s.connection()
    sets = _each_equal(conn.dialect, table, columns, ", ")
    where = _each_equal(conn.dialect, table, keys)
    sql = f"UPDATE {conn.dialect.identifier_preparer.format_table(table)} SET {sets} WHERE {where}"
    return _execute_many(s, sql, _converters(conn, table, [*columns, *keys]), rows)


def delete_rows(s: Session, table: Table, keys: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """DELETE the row whose `keys` match, for each row (the keys' values). Returns how many rows were given."""
    conn = s.connection()
    where = _each_equal(conn.dialect, table, keys)
    sql = f"DELETE FROM {conn.dialect.identifier_preparer.format_table(table)} WHERE {where}"
    return _execute_many(s, sql, _converters(conn, table, keys), rows)


def plain_rows(s: Session, statement: Executable) -> list[tuple]:
    """Every row of a SELECT as the driver's own tuples: no Row object a row, no result processing. For columns
    the driver already gives in their Python type (text and numbers, not dates on SQLite): reading a million
    records' (record id, child id) took 4.3 s as Rows and 1.7 s so (benchmarks/index_read.py)."""
    result = s.connection().execute(statement)
    try:
        return list(result.cursor.fetchall())  # type: ignore[union-attr]
    finally:
        result.close()


def _each_equal(dialect, table: Table, columns: Sequence[str], joiner: str = " AND ") -> str:
    """`column = ?` for each column (the dialect's parameter mark), joined."""
    prep, mark = dialect.identifier_preparer, _mark(dialect)
    return joiner.join(f"{prep.format_column(table.c[c])} = {mark}" for c in columns)


def _mark(dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


def _converters(conn, table: Table, columns: Sequence[str]) -> list[Callable[[Any], Any] | None]:
    """Each column's bound-value conversion for this dialect (None: the driver takes the value as it is)."""
    dialect = conn.dialect
    return [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]


def _execute_many(s: Session, sql: str, convert: list, rows: Iterable[Sequence[Any]]) -> int:
    conn = s.connection()
    n = 0
    batch: list[tuple] = []
    plain = all(c is None for c in convert)
    for row in rows:
        if plain:
            batch.append(tuple(row))
        else:
            batch.append(tuple(v if c is None or v is None else c(v) for c, v in zip(convert, row, strict=True)))
        if len(batch) == CHUNK:
            conn.exec_driver_sql(sql, batch)
            n += len(batch)
            batch = []
    if batch:
        conn.exec_driver_sql(sql, batch)
        n += len(batch)
    return n
