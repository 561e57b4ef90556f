"""the real-time lookup's key for the blocking rule given name + year + governorate (one side without a father
and one side without a day and month)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 10:00:00
"""

from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        batch_op.create_index('ix_linkage_given_year_gov', ['given_skel', 'birth_year', 'governorate'], unique=False,
                              if_not_exists=True)


def downgrade() -> None:
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_linkage_given_year_gov', if_exists=True)
