"""conference plans: wishes, conflicts, no-shows, the plan's figures, publishing

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:40:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_per_organisation', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('objective', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('upper_bound', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('solve_status', sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('notes', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('avoid', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('want', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('absent_from', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('absent_from')
        batch_op.drop_column('want')
        batch_op.drop_column('avoid')
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.drop_column('published_at')
        batch_op.drop_column('notes')
        batch_op.drop_column('solve_status')
        batch_op.drop_column('upper_bound')
        batch_op.drop_column('objective')
        batch_op.drop_column('max_per_organisation')
