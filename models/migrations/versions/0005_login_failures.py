"""login failures, for throttling log-in attempts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 17:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'loginfailure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('client_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('loginfailure', schema=None) as batch_op:
        batch_op.create_index('ix_loginfailure_account_key', ['account_key'], unique=False)
        batch_op.create_index('ix_loginfailure_client_key', ['client_key'], unique=False)
        batch_op.create_index('ix_loginfailure_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('loginfailure', schema=None) as batch_op:
        batch_op.drop_index('ix_loginfailure_created_at')
        batch_op.drop_index('ix_loginfailure_client_key')
        batch_op.drop_index('ix_loginfailure_account_key')
    op.drop_table('loginfailure')
