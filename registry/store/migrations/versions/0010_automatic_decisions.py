"""automatic decisions: the run of an automatic merge, the queue's priority, pairs held apart

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 02:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('merges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('run_id', sa.String(length=32), nullable=True))
    with op.batch_alter_table('suspected_duplicates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('held', sa.String(length=24), nullable=True))
    with op.batch_alter_table('dedupe_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auto_merged', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('dedupe_runs', schema=None) as batch_op:
        batch_op.drop_column('auto_merged')
    with op.batch_alter_table('suspected_duplicates', schema=None) as batch_op:
        batch_op.drop_column('held')
        batch_op.drop_column('priority')
    with op.batch_alter_table('merges', schema=None) as batch_op:
        batch_op.drop_column('run_id')
