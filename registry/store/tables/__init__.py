"""Every table of the registry, one module per wing that writes it, so Base.metadata (and Alembic) see them all.

The store owns the schema; the wings and the use cases import the tables they work on from here.
"""

from registry.store.tables import accounts, audit, consent, idempotency, matching, review, web  # noqa: F401
