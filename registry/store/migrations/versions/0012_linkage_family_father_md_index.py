"""the real-time lookup's key for the blocking rule day and month + family + father

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 14:50:00
"""

from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        batch_op.create_index('ix_linkage_family_father_md', ['family_skel', 'father_skel', 'dob_md'], unique=False,
                              if_not_exists=True)


def downgrade() -> None:
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_linkage_family_father_md', if_exists=True)
