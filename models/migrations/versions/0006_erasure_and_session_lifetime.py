"""erased entrepreneurs (GDPR): a tombstone keeps proposals and the audit log whole; the
last use of a token, for the idle lifetime of browser sessions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('entrepreneur', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table('apitoken', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('apitoken', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
    with op.batch_alter_table('entrepreneur', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
