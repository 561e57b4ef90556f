"""dedupe runs: status (running, finished, failed)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 23:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dedupe_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='running', nullable=False))
    # Runs stored before: finished ones are finished; unfinished ones died (no run is active during a migration).
    op.execute("UPDATE dedupe_runs SET status = CASE WHEN finished_at IS NULL THEN 'failed' ELSE 'finished' END")


def downgrade() -> None:
    with op.batch_alter_table('dedupe_runs', schema=None) as batch_op:
        batch_op.drop_column('status')
