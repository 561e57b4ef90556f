"""The Alembic migrations create exactly the tables the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import registry.store.models  # noqa: F401
from registry.store.db import Base, Database
from registry.store.migrate import upgrade


def test_migrations_match_the_models(database_url):
    upgrade(database_url)
    db = Database(database_url)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    db.dispose()
    assert diff == [], f"models and migrations differ: run registry.store.migrate.new_revision ({diff[:3]})"


def test_upgrade_twice_is_harmless(database_url):
    upgrade(database_url)
    upgrade(database_url)
