"""index the linkage entries for the new blocking rules (month-day + given name; given + mother's names)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 23:30:00
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        # if_not_exists: a registry whose lookups created the model's indexes already (the lookup benchmark)
        batch_op.create_index('ix_linkage_md_given', ['dob_md', 'given_skel'], unique=False, if_not_exists=True)
        batch_op.create_index('ix_linkage_given_mother', ['given_skel', 'mother_skel', 'mother_family_skel'],
                              unique=False, if_not_exists=True)


def downgrade() -> None:
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_linkage_given_mother', if_exists=True)
        batch_op.drop_index('ix_linkage_md_given', if_exists=True)
