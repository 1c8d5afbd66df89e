"""test_provider_events (the test provider's event outbox) and payment_attempts.action_token

Revision ID: 0006_test_provider_events
Revises: 0005_balance_payment_totals
Create Date: 2026-12-08

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0006_test_provider_events'
down_revision = '0005_balance_payment_totals'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('test_provider_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivered', 'failed', name='event_delivery_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_test_provider_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_test_provider_events_event_id'))
    )
    with op.batch_alter_table('test_provider_events', schema=None) as batch_op:
        batch_op.create_index('ix_test_provider_events_status_due_at', ['status', 'due_at'], unique=False)

    # Attempts already waiting for 3DS get no token: their old step URL stops answering and
    # their sessions expire as usual (test mode only).
    with op.batch_alter_table('payment_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('action_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_payment_attempts_action_token'), ['action_token'])


def downgrade():
    with op.batch_alter_table('payment_attempts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_payment_attempts_action_token'), type_='unique')
        batch_op.drop_column('action_token')

    with op.batch_alter_table('test_provider_events', schema=None) as batch_op:
        batch_op.drop_index('ix_test_provider_events_status_due_at')

    op.drop_table('test_provider_events')
