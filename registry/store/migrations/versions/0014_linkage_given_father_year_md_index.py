"""the real-time lookup's key for given name + father + year with the day and month last, so that the blocking
rule "given + father + year where one side lacks a day and month" is an index seek on the missing day and month

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:00:00
"""

from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        batch_op.create_index('ix_linkage_given_father_year_md',
                              ['given_skel', 'father_skel', 'birth_year', 'dob_md'], unique=False, if_not_exists=True)
        batch_op.drop_index('ix_linkage_given_father_year', if_exists=True)  # its prefix: every use kept


def downgrade() -> None:
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        batch_op.create_index('ix_linkage_given_father_year', ['given_skel', 'father_skel', 'birth_year'],
                              unique=False, if_not_exists=True)
        batch_op.drop_index('ix_linkage_given_father_year_md', if_exists=True)
