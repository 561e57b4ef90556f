"""The database: engine, session factory and the unit of work every use case runs in.

A use case opens `db.unit_of_work()`, does all its writes, and either everything commits or nothing does:
a failure (or Ctrl-C) inside leaves no half-written child.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import ClassVar

from sqlalchemy import MetaData, Table, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Every model maps one plain table (SQLAlchemy types __table__ as any FromClause): `store.rows`, insert and
    # delete take it as a Table without a cast at each use.
    __table__: ClassVar[Table]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


@contextmanager
def _committed(session: Session) -> Iterator[Session]:
    """A unit of work: everything the block wrote commits, or (on any error, Ctrl-C included) nothing does."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class Database:
    def __init__(self, url: str, echo: bool = False, pool_size: int | None = None):
        """`pool_size`: connections kept open (SQLAlchemy's default, 5, when None), and as many again on demand;
        a request waits at most 30 s for one (then fails) rather than forever."""
        self.url = url
        pool = {} if pool_size is None else {"pool_size": pool_size, "max_overflow": pool_size}
        self.engine: Engine = create_engine(url, echo=echo, future=True, **pool)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # For reads only: each statement commits on its own, so there is no transaction to begin or end (on
        # PostgreSQL two round trips fewer each time; under READ COMMITTED each statement of a transaction sees
        # its own snapshot anyway).
        self._read_sessions = sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                                           expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def unit_of_work(self) -> AbstractContextManager[Session]:
        return _committed(self.sessions())

    @contextmanager
    def bulk_writing(self) -> Iterator[Callable[[], AbstractContextManager[Session]]]:
        """Units of work for a batch run's large writes (its pairs, a first run's automatic merges, the
        queue and the cluster assignments), all on one connection. On SQLite that connection gets a 256 MiB
        page cache (the default 2 MiB re-reads the same B-tree pages of a large registry for every
        transaction) and checkpoints its write-ahead log
        every 80 MB instead of every 4 MB (pages that many transactions rewrite reach the database file once);
        both are put back, and the log checkpointed, before the connection returns to the pool. A process
        crash still loses nothing committed; a power loss can roll back the committed transactions not yet
        checkpointed (as always with synchronous=NORMAL), here a longer stretch of them, which the next batch
        run redoes. Figures: docs/benchmarks.md, "Batch writes"."""
        with self.engine.connect() as conn:
            sqlite = self.dialect == "sqlite"
            if sqlite:
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
                conn.exec_driver_sql("PRAGMA wal_autocheckpoint=20000")
                conn.commit()

            try:
                yield lambda: _committed(Session(bind=conn, expire_on_commit=False))
            finally:
                if sqlite:
                    conn.rollback()
                    conn.exec_driver_sql("PRAGMA cache_size=-2000")
                    conn.exec_driver_sql("PRAGMA wal_autocheckpoint=1000")
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                    conn.commit()

    @contextmanager
    def reads(self) -> Iterator[Session]:
        """A session for reads that need no transaction of their own (the hot paths' checks and candidates).
        Never write in it: each statement would commit on its own."""
        session = self._read_sessions()
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
