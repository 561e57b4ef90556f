"""the consents that ended, by purpose: which children are out of matching, asked on every lookup

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 20:50:00
"""

from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index('ix_consents_purpose_withdrawn', ['purpose', 'withdrawn_at'], unique=False,
                              if_not_exists=True)
        batch_op.create_index('ix_consents_purpose_expires', ['purpose', 'expires_on'], unique=False,
                              if_not_exists=True)


def downgrade() -> None:
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('ix_consents_purpose_expires', if_exists=True)
        batch_op.drop_index('ix_consents_purpose_withdrawn', if_exists=True)
