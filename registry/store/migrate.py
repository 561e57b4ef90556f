"""Schema migrations (Alembic), run by `registry init` and the test suite alike."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def new_revision(url: str, message: str) -> None:
    """For developers: autogenerate the next migration from the models (review it before committing)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)


def schema_is_current(url: str, connection=None) -> tuple[bool, str | None, str | None]:  # noqa: ANN001
    """(at head?, the database's revision, the code's head revision): for the readiness check."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if connection is not None:
        current = MigrationContext.configure(connection).get_current_revision()
    else:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
        finally:
            engine.dispose()
    return current == head, current, head
