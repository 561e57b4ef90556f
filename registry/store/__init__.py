"""Storage: the SQLAlchemy engine, the unit of work, and the tables (migrated by Alembic)."""

from registry.store.db import Base, Database, utcnow

__all__ = ["Base", "Database", "utcnow"]
