"""the father's and the family name's own keyed bigrams and known flags in the linkage index, so that a part
with a clerk's typo is near its place on the other side instead of different (encoding version 2: rows written
before stay empty until `registry index rebuild`)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 04:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('father_grams', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('father_known', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('family_grams', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('family_known', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        for column in ('family_known', 'family_grams', 'father_known', 'father_grams'):
            batch_op.drop_column(column)
