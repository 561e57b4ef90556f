"""Imports every subpackage's table module, so Base.metadata (and Alembic) see all tables.

Add a line here when a subpackage gets tables of its own.
"""

from registry.accounts import tables as _accounts_tables  # noqa: F401
from registry.audit import tables as _audit_tables  # noqa: F401
from registry.consent import tables as _consent_tables  # noqa: F401
from registry.matching import tables as _matching_tables  # noqa: F401
from registry.review import tables as _review_tables  # noqa: F401
from registry.web import tables as _web_tables  # noqa: F401
