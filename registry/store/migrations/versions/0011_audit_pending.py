"""audit events committed with their caller's action, waiting for their place in the chain

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01 02:05:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_pending',
    sa.Column('pending_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('pending_id', name=op.f('pk_audit_pending'))
    )


def downgrade() -> None:
    op.drop_table('audit_pending')
