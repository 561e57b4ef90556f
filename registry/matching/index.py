"""The linkage index: stores each record's encodings, removes them on erasure, finds candidates fast.

Candidates for one incoming record come from the same blocking keys as batch deduplication, as indexed
SQL lookups, so a real-time query touches a few hundred rows at most, not the registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

import pyarrow as pa
from sqlalchemy import TextualSelect, delete, func, select, text
from sqlalchemy.orm import Session

from registry.keys import KeyRing
from registry.matching.blocking import conditions
from registry.matching.encoding import NEAR_PARTS, TOKEN_BYTES, LinkageEncoder, LinkageRow
from registry.matching.record import RecordFields
from registry.store.tables.matching import LinkageEntry

# Which name analysis wrote an entry. 2: spellings attested too rarely to count by themselves are a known name's
# where their letters fit it (Leen is لين), and a Latin given name's ids include the names it is a usual
# spelling of (Hala: حلا as well as هالة). An index holding older entries is rebuilt (`registry index rebuild`)
# before a batch run: a name written one way must not encode two ways in one index.
# 3: each part of the family on its own, for typos (`encoding.NEAR_PARTS`), and the grandfather's skeleton.
ENCODING_VERSION = 3
TOKEN_LISTS = ("given_ids", "chain_keys", "chain_skels")  # stored as space-separated tokens
NUMBER_LISTS = ("given_grams", *(f"{part}_near" for part in NEAR_PARTS))  # stored as space-separated integers
# Of those, the lists the real-time scorer reads as tuples (the others it reads as stored: LinkageRow).
PARSED_LISTS = ("given_grams",)


def to_entry(row: LinkageRow) -> dict:
    d = row.as_dict()
    for col in PARSED_LISTS:
        d[col] = " ".join(str(g) for g in d[col])
    for col in TOKEN_LISTS:
        d[col] = " ".join(d[col])
    d["encoding_version"] = ENCODING_VERSION
    return d


def from_entry(entry: LinkageEntry | dict) -> dict:
    """A stored entry as the comparisons want it: lists as tuples, but the parts' one-letter-out skeletons,
    read as stored (comparisons._near_py parses them for the few pairs that need them)."""
    d = dict(entry) if isinstance(entry, dict) else {c: getattr(entry, c) for c in _COLUMNS}
    for col in PARSED_LISTS:
        d[col] = tuple(map(int, (d.get(col) or "").split()))
    for col in TOKEN_LISTS:
        d[col] = tuple((d.get(col) or "").split())
    return d


_COLUMNS = [c.name for c in LinkageEntry.__table__.columns]
_TABLE = LinkageEntry.__tablename__
_SELECTED = ", ".join(_COLUMNS)
_TYPED = list(LinkageEntry.__table__.columns)
# What batch deduplication reads of each entry, and the type each column has once unpacked (lists stay
# space-separated text until DuckDB reads them: dedupe.load_into_duckdb).
ENTRY_SCHEMA = pa.schema([(c.name, pa.int64() if c.type.python_type is int else pa.bool_()
                           if c.type.python_type is bool else pa.string())
                          for c in LinkageEntry.__table__.columns if c.name != "encoding_version"])
# An entry travels from the database as one text: its columns as text joined by FIELD_SEPARATOR, NULL written
# as NULL_MARK (neither occurs in an encoding). One Python string a row instead of one a column: reading a
# million entries took 15.5 s column by column and 10.8 s packed, loading them into DuckDB 4.0 s and 4.5 s
# (docs/benchmarks.md). The child id stays a column of its own (`without_children` filters on it).
FIELD_SEPARATOR, NULL_MARK = "\x1f", "\x1e"
PACKED_SCHEMA = pa.schema([("child_id", pa.string()), ("entry", pa.string())])
# The entries' columns that hold one keyed token (16 hex digits).
TOKEN_COLUMNS = tuple(c.name for c in LinkageEntry.__table__.columns if c.type.python_type is str
                      and getattr(c.type, "length", None) == 2 * TOKEN_BYTES)
_NULLABLE = {c.name for c in LinkageEntry.__table__.columns if c.nullable}


def _all_entries_sql(dialect: str) -> str:
    """The packed read. SQLite: one printf a row (integers and its 0/1 booleans print as decimal); a chain of
    thirty `||` copied the text built so far at each step (a million entries: 9.2 s in SQLite against 4.9 s).
    PostgreSQL: one concat_ws over every column as text (NULL first written as NULL_MARK: concat_ws skips it)."""
    if dialect == "sqlite":
        values = ", ".join(f"coalesce({c}, '{NULL_MARK}')" if c in _NULLABLE else c for c in ENTRY_SCHEMA.names)
        packed = f"printf('{FIELD_SEPARATOR.join(['%s'] * len(ENTRY_SCHEMA.names))}', {values})"
    else:
        values = ", ".join(f"coalesce(CAST({c} AS TEXT), '{NULL_MARK}')" for c in ENTRY_SCHEMA.names)
        packed = f"concat_ws('{FIELD_SEPARATOR}', {values})"
    return f"SELECT child_id, {packed} FROM {_TABLE}"


@lru_cache(maxsize=4096)
def _candidates_sql(where: str) -> TextualSelect:
    """The candidates query for one shape of condition (which rules a query's fields allow; the values are
    parameters), built once: typed, so that booleans come back as booleans."""
    return text(f"SELECT {_SELECTED} FROM {_TABLE} WHERE {where} LIMIT :limit").columns(*_TYPED)


class LinkageIndex:
    def __init__(self, keys: KeyRing):
        self.encoder = LinkageEncoder(keys)

    def entry_values(self, record_id: str, child_id: str, identity: RecordFields) -> dict:
        """The index row for a record, encoded: column values, ready to insert."""
        return to_entry(self.encoder.encode(record_id, child_id, identity))

    def update(self, session: Session, record_id: str, child_id: str, identity: RecordFields) -> None:
        values = self.entry_values(record_id, child_id, identity)
        entry = session.get(LinkageEntry, record_id)
        if entry is None:
            session.add(LinkageEntry(**values))
        else:
            for k, v in values.items():
                setattr(entry, k, v)

    def remove(self, session: Session, record_id: str) -> None:
        session.execute(delete(LinkageEntry).where(LinkageEntry.record_id == record_id))

    def outdated(self, session: Session) -> int:
        """How many entries an earlier name analysis wrote (ENCODING_VERSION): `registry index rebuild`
        re-encodes them."""
        return session.scalar(select(func.count()).select_from(LinkageEntry)
                              .where(LinkageEntry.encoding_version < ENCODING_VERSION)) or 0

    def reassign(self, session: Session, record_ids: Iterable[str], child_id: str) -> None:
        for entry in session.scalars(select(LinkageEntry).where(LinkageEntry.record_id.in_(list(record_ids)))):
            entry.child_id = child_id

    def candidates(self, session: Session, row: LinkageRow, limit: int = 2000) -> list[dict]:
        """Stored records sharing at least one blocking key with `row`."""
        where, params = conditions(row.as_dict())  # the batch blocking rules (matching.blocking)
        if not where:
            return []
        result = session.connection().execute(_candidates_sql(where), {**params, "limit": limit})
        return [from_entry(dict(zip(_COLUMNS, r))) for r in result]

    def all_entries(self, session: Session, batch: int = 50_000) -> Iterator[pa.Table]:
        """Every stored entry, in Arrow tables of up to `batch` rows (for batch deduplication), each entry
        packed in one text (PACKED_SCHEMA; `dedupe.load_into_duckdb` unpacks it). Read as the driver's plain
        tuples: at a million entries, a dict per row cost seconds."""
        conn = session.connection()
        result = conn.exec_driver_sql(_all_entries_sql(conn.dialect.name))
        try:
            while part := result.cursor.fetchmany(batch):
                child_ids, entries = zip(*part)
                yield pa.table([pa.array(child_ids, type=pa.string()), pa.array(entries, type=pa.string())],
                               schema=PACKED_SCHEMA)
        finally:
            result.close()
