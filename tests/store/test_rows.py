"""Bulk rows written as tuples to the driver (`registry.store.rows`) read back exactly as rows the ORM wrote:
same values, same stored forms (datetimes, booleans, NULLs), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from registry.store.rows import CHUNK, insert_rows, update_rows
from registry.store.tables.matching import SuspectedDuplicate
from registry.store.tables.review import Merge

WHEN = dt.datetime(2026, 3, 1, 9, 30, 0)  # no microseconds: a stored form that drops them would show here


def _merge(merge_id: str, **extra) -> dict:
    return {"merge_id": merge_id, "survivor": "C1", "absorbed": "C2", "pair_id": None, "closed_pairs": "",
            "decided_by": "auto", "automatic": True, "probability": None, "run_id": "run-1", "decided_at": WHEN,
            **extra}


def _children(s, *ids: str) -> None:
    from registry.store.models import Child

    s.add_all([Child(child_id=c, created_at=WHEN, updated_at=WHEN) for c in ids])
    s.flush()


def test_inserted_rows_read_back_as_the_orm_writes_them(registry):
    columns = ("merge_id", "survivor", "absorbed", "pair_id", "closed_pairs", "decided_by", "automatic",
               "probability", "run_id", "decided_at")
    with registry.db.unit_of_work() as s:
        _children(s, "C1", "C2")
        s.add(Merge(**_merge("M-orm", probability=0.75, pair_id=7)))
        s.flush()
        n = insert_rows(s, Merge.__table__, columns,
                        [tuple(_merge("M-rows", probability=0.75, pair_id=7)[c] for c in columns)])
        assert n == 1
    with registry.db.sessions() as s:
        orm, rows = (s.get(Merge, m) for m in ("M-orm", "M-rows"))
        assert orm is not None and rows is not None
        for c in columns[1:]:
            assert getattr(rows, c) == getattr(orm, c), c
        assert rows.decided_at == WHEN and rows.automatic is True and rows.undone_at is None
        # Stored the same way too (not only read back alike): the raw column compares equal in SQL.
        same = s.scalar(select(Merge.merge_id).where(Merge.decided_at == orm.decided_at, Merge.merge_id == "M-rows"))
        assert same == "M-rows"


def test_updates_by_key_and_more_rows_than_one_chunk(registry):
    sd = SuspectedDuplicate
    n = CHUNK + 7  # crosses a chunk boundary
    with registry.db.unit_of_work() as s:
        insert_rows(s, sd.__table__, ("record_a", "record_b", "probability", "match_weight", "status", "source",
                                      "digest_a", "digest_b", "created_at", "updated_at"),
                    ((f"R{i:06d}", f"S{i:06d}", 0.5, 0.0, "open", "batch", "d", "d", WHEN, WHEN) for i in range(n)))
    with registry.db.unit_of_work() as s:
        ids = list(s.scalars(select(sd.pair_id).order_by(sd.pair_id)))
        assert len(ids) == n
        later = WHEN + dt.timedelta(microseconds=1)
        update_rows(s, sd.__table__, ("status", "priority", "updated_at"), ("pair_id",),
                    (("merged", float(i), later, pair_id) for i, pair_id in enumerate(ids) if i % 2 == 0))
    with registry.db.sessions() as s:
        got = s.execute(select(sd.pair_id, sd.status, sd.priority, sd.held, sd.updated_at).order_by(sd.pair_id)).all()
    assert [r.status for r in got] == ["merged" if i % 2 == 0 else "open" for i in range(n)]
    assert [r.priority for r in got] == [float(i) if i % 2 == 0 else None for i in range(n)]
    assert all(r.held is None for r in got)
    assert {r.updated_at for r in got} == {WHEN, WHEN + dt.timedelta(microseconds=1)}


def test_a_failed_bulk_write_leaves_nothing(registry):
    """Inside the unit of work: a row that breaks a constraint rolls back every row written with it."""
    sd = SuspectedDuplicate
    row = ("R1", "S1", 0.5, 0.0, "open", "batch", "d", "d", WHEN, WHEN)
    columns = ("record_a", "record_b", "probability", "match_weight", "status", "source", "digest_a", "digest_b",
               "created_at", "updated_at")
    try:
        with registry.db.unit_of_work() as s:
            insert_rows(s, sd.__table__, columns, [row, ("R2", "S2", *row[2:]), row])  # the pair twice: unique
    except Exception as e:  # the driver's IntegrityError, wrapped by SQLAlchemy
        assert "unique" in str(e).lower() or "UNIQUE" in str(e)
    else:
        raise AssertionError("a duplicate pair was accepted")
    with registry.db.sessions() as s:
        assert s.scalars(select(sd.pair_id)).all() == []


def test_bulk_writing_commits_each_unit_and_puts_the_connection_back_as_it_was(registry):
    """A batch run's units of work on one connection: each commits or rolls back alone; on SQLite the page
    cache and checkpoint interval are put back before the connection returns to the pool."""
    sd = SuspectedDuplicate
    columns = ("record_a", "record_b", "probability", "match_weight", "status", "source", "digest_a", "digest_b",
               "created_at", "updated_at")
    with registry.db.bulk_writing() as unit_of_work:
        with unit_of_work() as s:
            insert_rows(s, sd.__table__, columns, [("R1", "S1", 0.5, 0.0, "open", "batch", "d", "d", WHEN, WHEN)])
        try:
            with unit_of_work() as s:
                insert_rows(s, sd.__table__, columns, [("R2", "S2", 0.5, 0.0, "open", "batch", "d", "d", WHEN, WHEN)])
                raise RuntimeError("stopped mid-unit")
        except RuntimeError:
            pass
    with registry.db.sessions() as s:
        assert s.scalars(select(sd.record_a)).all() == ["R1"]
    if registry.db.dialect == "sqlite":
        with registry.db.engine.connect() as conn:  # the pool's only idle connection: the one used above
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
