"""each part of the family on its own in the linkage index, for typos: the keyed one-letter-out skeletons of
the father's, grandfather's, family, mother's and mother's family names, whether the dictionary knows each,
and the grandfather's skeleton (encoding version 3: existing entries are re-encoded by `registry index rebuild`,
which a batch run asks for)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 23:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

NEAR = ('father_near', 'grandfather_near', 'family_near', 'mother_near', 'mother_family_near')


def upgrade() -> None:
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grandfather_skel', sa.String(length=16), nullable=True))
        for name in NEAR:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('parts_known', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('linkage_entries', schema=None) as batch_op:
        batch_op.drop_column('parts_known')
        for name in reversed(NEAR):
            batch_op.drop_column(name)
        batch_op.drop_column('grandfather_skel')
