"""Subscriptions: the subscriptions, their renewal rows (the durable schedule) and timeline,
each store's test clock, a payment's subscription, and a checkout's free trial

Revision ID: 0013_subscriptions
Revises: 0012_payouts
Create Date: 2027-03-01

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0013_subscriptions'
down_revision = '0012_payouts'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade():
    op.create_table('subscriptions',
    sa.Column('id', ID, nullable=False),
    sa.Column('store_id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('page_id', ID, nullable=True),
    sa.Column('checkout_session_id', sa.String(length=64), nullable=True),
    sa.Column('status', _enum('subscription_status', 'trialing', 'active', 'past_due', 'paused', 'canceled', 'incomplete'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('interval', _enum('subscription_interval', 'day', 'week', 'month', 'year'), nullable=False),
    sa.Column('interval_count', sa.Integer(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('discount_duration', _enum('subscription_discount_duration', 'once', 'forever', 'repeating'), nullable=True),
    sa.Column('discount_until', TIME, nullable=True),
    sa.Column('coupon_code', sa.String(length=64), nullable=True),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_subscription_id', sa.String(length=100), nullable=True),
    sa.Column('payment_method', sa.String(length=100), nullable=False),
    sa.Column('trial_end', TIME, nullable=True),
    sa.Column('current_period_start', TIME, nullable=False),
    sa.Column('current_period_end', TIME, nullable=False),
    sa.Column('billing_anchor', TIME, nullable=True),
    sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False),
    sa.Column('cancellation_reason', _enum('cancellation_reason', 'requested_by_customer', 'requested_by_merchant', 'duplicate', 'fraudulent', 'other', 'payment_failed'), nullable=True),
    sa.Column('canceled_at', TIME, nullable=True),
    sa.Column('paused_at', TIME, nullable=True),
    sa.Column('started_at', TIME, nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('updated_at', TIME, nullable=False),
    sa.CheckConstraint('amount >= 0 AND discount >= 0', name=op.f('ck_subscriptions_amounts_not_negative')),
    sa.CheckConstraint('interval_count >= 1', name=op.f('ck_subscriptions_interval_count_positive')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_subscriptions_store_id_stores'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_subscriptions_customer_id_customers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_subscriptions_page_id_pages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['checkout_session_id'], ['checkout_sessions.id'], name=op.f('fk_subscriptions_checkout_session_id_checkout_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions')),
    sa.UniqueConstraint('checkout_session_id', name=op.f('uq_subscriptions_checkout_session_id'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriptions_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriptions_page_id'), ['page_id'], unique=False)
        batch_op.create_index('ix_subscriptions_store_id_id', ['store_id', 'id'], unique=False)
        batch_op.create_index('ix_subscriptions_store_status', ['store_id', 'status'], unique=False)

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subscription_id', ID, nullable=True))
        batch_op.create_index(batch_op.f('ix_payments_subscription_id'), ['subscription_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_payments_subscription_id_subscriptions'), 'subscriptions', ['subscription_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('checkout_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trial_days', sa.Integer(), server_default='0', nullable=False))

    op.create_table('subscription_renewals',
    sa.Column('id', ID, nullable=False),
    sa.Column('subscription_id', ID, nullable=False),
    sa.Column('store_id', ID, nullable=False),
    sa.Column('period_start', TIME, nullable=False),
    sa.Column('due_at', TIME, nullable=False),
    sa.Column('status', _enum('renewal_status', 'scheduled', 'processing', 'succeeded', 'failed', 'canceled'), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failed_at', TIME, nullable=True),
    sa.Column('failure_code', sa.String(length=100), nullable=True),
    sa.Column('payment_id', ID, nullable=True),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('updated_at', TIME, nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_subscription_renewals_subscription_id_subscriptions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_subscription_renewals_store_id_stores'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_subscription_renewals_payment_id_payments'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription_renewals')),
    sa.UniqueConstraint('subscription_id', 'period_start', name='uq_subscription_renewals_period')
    )
    with op.batch_alter_table('subscription_renewals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_renewals_subscription_id'), ['subscription_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_renewals_store_id'), ['store_id'], unique=False)
        batch_op.create_index('ix_subscription_renewals_status_due_at', ['status', 'due_at'], unique=False)

    op.create_table('subscription_events',
    sa.Column('id', ID, nullable=False),
    sa.Column('subscription_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('at', TIME, nullable=False),
    sa.Column('detail', JSON, nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_subscription_events_subscription_id_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription_events'))
    )
    with op.batch_alter_table('subscription_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_events_subscription_id'), ['subscription_id'], unique=False)

    op.create_table('test_clocks',
    sa.Column('store_id', ID, nullable=False),
    sa.Column('offset_seconds', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', TIME, nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_test_clocks_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_test_clocks'))
    )


def downgrade():
    op.drop_table('test_clocks')
    op.drop_table('subscription_events')
    op.drop_table('subscription_renewals')
    with op.batch_alter_table('checkout_sessions', schema=None) as batch_op:
        batch_op.drop_column('trial_days')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payments_subscription_id_subscriptions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_payments_subscription_id'))
        batch_op.drop_column('subscription_id')
    op.drop_table('subscriptions')
