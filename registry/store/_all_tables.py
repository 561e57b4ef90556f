"""Imports every subpackage's table module, so Base.metadata (and Alembic) see all tables.

Add a line here when a subpackage gets tables of its own.
"""
