"""Registering a child's record, one at a time (API) or many (import): vault, case pointer, linkage index."""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple, TypeVar

from sqlalchemy import Boolean, DateTime, Dialect, LargeBinary, Table, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from registry.errors import Conflict
from registry.identity.model import Identity
from registry.matching.lookup import find_matches
from registry.services.access import out_of_matching, record_admin
from registry.services.actor import SYSTEM, Actor
from registry.services.context import Registry
from registry.services.review.queue import queue_registration_matches
from registry.store.db import utcnow
from registry.store.models import CaseRecord, Child, VaultEntry, resolve_child
from registry.store.pseudonym import new_pseudonym
from registry.store.rows import insert_prepared
from registry.store.tables.matching import LinkageEntry


@dataclass(frozen=True)
class Registered:
    child_id: str
    record_id: str
    outcome: str  # created | updated | unchanged


T = TypeVar("T")
RETRIES = 10


def retry_on_conflict(unit_of_work: Callable[[], T], attempts: int = RETRIES) -> T:
    """Run a whole unit of work again when a concurrent writer got there first.

    Two registrations of one (institution, source_ref) at once both find no record and both insert; the
    database's unique constraint lets one commit and fails the other (IntegrityError; on SQLite the loser may
    instead find its snapshot stale: "database is locked"). The loser's transaction is rolled back whole, so
    running it again reads the winner's record and answers "unchanged" or "updated", as if it had come second.
    """
    for attempt in range(attempts):
        try:
            return unit_of_work()
        except IntegrityError:
            if attempt == attempts - 1:
                raise
        except OperationalError as e:
            if attempt == attempts - 1 or not ("locked" in str(e) or "busy" in str(e)):
                raise
        time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
    raise AssertionError("unreachable")


def new_record_id() -> str:
    return "R" + secrets.token_hex(12)


def content_digest(reg: Registry, identity: Identity, canonical: str | None = None) -> str:
    return reg.keys.content_digest(canonical or identity.canonical_json())


def erased_reference(reg: Registry, institution: str, source_ref: str) -> str:
    """What an erased record's local reference becomes: a keyed fingerprint, enough to refuse re-registration."""
    return "erased:" + reg.keys.content_digest(f"{institution}|{source_ref}")[:32]


def find_record(session: Session, institution: str, source_ref: str) -> CaseRecord | None:
    return session.scalars(
        select(CaseRecord).where(CaseRecord.institution == institution, CaseRecord.source_ref == source_ref)
    ).one_or_none()


def register_record(
    reg: Registry, session: Session, identity: Identity, existing: CaseRecord | None = None, *,
    known: bool = False, update: bool = True,
) -> Registered:
    """Store one validated identity inside the caller's unit of work.

    The same (institution, source_ref) again with the same content changes nothing; with new content it
    re-seals the identity and refreshes its encodings, keeping the child's pseudonym -- unless `update` is
    False (a registration over the API: an identity changes only by an explicit update), then Conflict.
    `known=True` means the caller already looked the record up (and passes it, or None).
    """
    if not known:
        # The record under its reference, or (one read for both) the erased record that took its place.
        erased = erased_reference(reg, identity.institution, identity.source_ref)
        found = {r.source_ref: r for r in session.scalars(select(CaseRecord).where(
            CaseRecord.institution == identity.institution, CaseRecord.source_ref.in_((identity.source_ref, erased))))}
        existing = found.get(identity.source_ref) or found.get(erased)
    if not update and existing is not None and existing.status != "erased" \
            and existing.content_digest != content_digest(reg, identity):
        raise Conflict("a record with this reference exists with another identity: change it with an update "
                       "(PUT /v1/records/{source_ref} with If-Match)", field="source_ref")
    result = register_records(reg, session, [(identity, existing)])[0]
    if result.outcome != "unchanged":
        queue_possible_duplicates(reg, session, result, identity)
    return result


def queue_possible_duplicates(reg: Registry, session: Session, result: Registered, identity: Identity) -> int:
    """Registration runs the real-time lookup and stores its result: every registered child this record may
    be goes into the review queue (source "registration"). Nothing is queued before a model is trained;
    the next batch run catches those records."""
    if reg.model() is None:
        return 0
    matches = [m for m in find_matches(session, reg.index, reg.model(), identity, excluded_children=set(),
                                       exclude_records={result.record_id}) if m.child_id != result.child_id]
    # Only the matches are asked about consent: the whole registry's list of children out of matching would
    # cost every registration a read of every ended consent.
    out = out_of_matching(session, {m.child_id for m in matches})
    return queue_registration_matches(session, result.record_id, [m for m in matches if m.child_id not in out])


# What a new record writes, in foreign-key order: the child, its case pointer, its sealed identity, its encodings.
NEW_RECORD_TABLES: tuple[Table, ...] = tuple(t.__table__ for t in (Child, CaseRecord, VaultEntry, LinkageEntry))


class NewRecord(NamedTuple):
    """A new record, computed before its transaction (by an import worker, or in place): fresh ids, the keyed
    content digest, and one row per table of NEW_RECORD_TABLES (the sealed identity, the encodings...), each a
    tuple in the table's column order with values as the database driver takes them."""

    institution: str
    source_ref: str
    digest: str
    child_id: str
    record_id: str
    rows: tuple[tuple, ...]

    def __repr__(self) -> str:  # never the pseudonym, the digest or the encodings, in a log or a traceback
        return "NewRecord(...)"


def prepare_record(reg: Registry, identity: Identity) -> NewRecord:
    """Everything a new record needs that does not touch the database (the CPU-heavy part of registering)."""
    child_id, record_id, digest, values = new_record_values(reg, identity)
    return NewRecord(identity.institution, identity.source_ref, digest, child_id, record_id,
                     driver_rows(reg, values))


def driver_rows(reg: Registry, values: tuple[dict, ...]) -> tuple[tuple, ...]:
    """A new record's column values (`new_record_values`) as the database driver takes them: one tuple per
    table of NEW_RECORD_TABLES, in its column order."""
    dialect = reg.db.engine.dialect
    return tuple(_driver_row(dialect, table, v) for table, v in zip(NEW_RECORD_TABLES, values))


def new_record_values(reg: Registry, identity: Identity) -> tuple[str, str, str, tuple[dict, ...]]:
    """A new record's child id, record id, content digest, and its rows as column values (one dict per table
    of NEW_RECORD_TABLES), before any conversion for the database driver."""
    canonical = identity.canonical_json()
    child_id, record_id = new_pseudonym(), new_record_id()
    digest = content_digest(reg, identity, canonical)
    now = utcnow()
    values = (
        {"child_id": child_id, "status": "active", "merged_into": None, "created_at": now, "updated_at": now},
        {"record_id": record_id, "child_id": child_id, "institution": identity.institution,
         "source_ref": identity.source_ref, "content_digest": digest, "status": "active", "created_at": now,
         "updated_at": now},
        reg.vault.sealed(record_id, identity, canonical, now),
        reg.index.entry_values(record_id, child_id, identity),
    )
    return child_id, record_id, digest, values


@lru_cache(maxsize=16)
def _columns(dialect: Dialect, table: Table) -> tuple[list[str], list[tuple[int, Callable]]]:
    """A table's column names in order, and (position, conversion) for the columns whose type converts values
    for this driver: the conversions SQLAlchemy applies to an insert (dates as text on SQLite). Bytes and
    booleans go to the driver as they are: every driver takes them and stores what SQLAlchemy's conversion
    would (a memoryview of the bytes on SQLite, which could not be sent back from an import worker; 1 or 0)."""
    names, conversions = [], []
    for i, column in enumerate(table.columns):
        names.append(column.name)
        if isinstance(column.type, DateTime):
            conversions.append((i, _timestamps(dialect)))
        elif not isinstance(column.type, LargeBinary | Boolean):
            convert = column.type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None:
                conversions.append((i, convert))
    return names, conversions


@lru_cache(maxsize=16)
def _timestamps(dialect: Dialect) -> Callable:
    """The driver's conversion of timestamps, remembering the last one: a new record's timestamps are one and
    the same. None when the driver takes them as they are."""
    convert = DateTime().dialect_impl(dialect).bind_processor(dialect)
    if convert is None:
        return lambda value: value
    last = [(object(), None)]  # one (value, converted) pair, replaced whole: threads may share it

    def converted(value):
        if value is None:
            return None
        kept = last[0]
        if kept[0] is value:
            return kept[1]
        kept = (value, convert(value))
        last[0] = kept
        return kept[1]

    return converted


@lru_cache(maxsize=16)
def _getter(dialect: Dialect, table: Table) -> Callable[[Mapping[str, object]], tuple]:
    return itemgetter(*_columns(dialect, table)[0])


def _driver_row(dialect: Dialect, table: Table, values: Mapping[str, object]) -> tuple:
    # Every column must be given (a KeyError otherwise): a tuple has no defaults to fall back on.
    row = _getter(dialect, table)(values)
    conversions = _columns(dialect, table)[1]
    if not conversions:
        return row
    out = list(row)
    for i, convert in conversions:
        out[i] = convert(out[i])
    return tuple(out)


def insert_new_records(session: Session, records: list[NewRecord]) -> None:
    """Write new records in the session's transaction: one executemany per table, handing the driver plain
    tuples (SQLAlchemy's per-row parameter handling was a fifth of an import's writing time)."""
    if not records:
        return
    dialect = session.connection().dialect
    for i, table in enumerate(NEW_RECORD_TABLES):
        insert_prepared(session, table, tuple(_columns(dialect, table)[0]), [r.rows[i] for r in records])


def register_records(reg: Registry, session: Session, items: list[tuple[Identity, CaseRecord | None]]
                     ) -> list[Registered]:
    """Store many validated identities (each with its stored record, or None when new) in the caller's unit
    of work. New children are written with one multi-row insert per table.

    Raises Conflict before writing anything if one of them was erased.
    """
    for _, existing in items:
        if existing is not None and existing.status == "erased":
            raise Conflict("this record was erased at the child's request and cannot be registered again "
                           "under the same reference", field="source_ref")
    results: list[Registered] = []
    new_records: list[NewRecord] = []
    for identity, existing in items:
        if existing is not None:
            digest = content_digest(reg, identity)
            if existing.content_digest == digest:
                results.append(Registered(existing.child_id, existing.record_id, "unchanged"))
                continue
            reg.vault.seal(session, existing.record_id, identity)
            existing.content_digest = digest
            reg.index.update(session, existing.record_id, existing.child_id, identity)
            results.append(Registered(existing.child_id, existing.record_id, "updated"))
            continue
        new = prepare_record(reg, identity)
        new_records.append(new)
        results.append(Registered(new.child_id, new.record_id, "created"))
    insert_new_records(session, new_records)
    return results


def register_child(reg: Registry, identity: Identity) -> Registered:
    def once() -> Registered:
        with reg.db.unit_of_work() as session:
            return register_record(reg, session, identity)

    return retry_on_conflict(once)


@dataclass(frozen=True)
class ChildView:
    child_id: str
    status: str
    merged_into: str | None
    records: list[dict]  # institution, source_ref, since, identity (or None when erased)


def get_child(reg: Registry, child_id: str, with_identity: bool = True) -> ChildView:
    from registry.identity.vault import Erased

    with reg.db.unit_of_work() as session:
        child = resolve_child(session, child_id)
        records = []
        for rec in sorted(child.records, key=lambda r: r.created_at):
            identity = None
            if with_identity and rec.status != "erased":
                try:
                    identity = reg.vault.open(session, rec.record_id).to_dict()
                except Erased:
                    identity = None
            records.append({
                "record_id": rec.record_id,
                "institution": rec.institution,
                "source_ref": rec.source_ref if rec.status != "erased" else None,
                "since": rec.created_at.date().isoformat(),
                "status": rec.status,
                "identity": identity,
            })
        return ChildView(child.child_id, child.status, child.merged_into, records)


def erase_child(reg: Registry, child_id: str, actor: Actor = SYSTEM) -> int:
    """Crypto-shred every record of a child: data keys and ciphertexts destroyed, encodings removed.

    The pseudonym, the case pointers' institutions and the audit trail remain, so statistics and the log
    stay intact; the local reference is replaced by a keyed fingerprint so it cannot be re-registered
    by accident.
    """
    with reg.db.unit_of_work() as session:
        child = resolve_child(session, child_id)
        n = 0
        for rec in child.records:
            reg.vault.erase(session, rec.record_id)
            reg.index.remove(session, rec.record_id)
            if rec.status != "erased":
                rec.source_ref = erased_reference(reg, rec.institution, rec.source_ref)
                rec.status = "erased"
                n += 1
        child.status = "erased"
        # The erasure itself is logged (pseudonym only), in the same transaction: no erasure goes unrecorded.
        record_admin(reg, "erase", (child.child_id,), session=session, actor=actor)
        return n
