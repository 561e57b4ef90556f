"""two indexes no query reads, written by every merge or every stored pair: the linkage index's child_id (the
index is read by record and by blocking keys, never by child) and suspected_duplicates.record_a (the unique
index on record_a, record_b starts with it)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 05:30:00
"""

from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_linkage_entries_child_id', if_exists=True)
    with op.batch_alter_table('suspected_duplicates', schema=None) as batch_op:
        batch_op.drop_index('ix_suspected_duplicates_record_a', if_exists=True)


def downgrade() -> None:
    with op.batch_alter_table('suspected_duplicates', schema=None) as batch_op:
        batch_op.create_index('ix_suspected_duplicates_record_a', ['record_a'], unique=False, if_not_exists=True)
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        batch_op.create_index('ix_linkage_entries_child_id', ['child_id'], unique=False, if_not_exists=True)
