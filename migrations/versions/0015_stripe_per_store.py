"""Stripe per store: the store's provider choice and its Stripe keys (the secrets encrypted),
and what an attempt's Stripe intent needs later (its client secret, the customer its card was saved to, on the
subscription too),
and coupon holds (a payment's redemption, written before the PSP call in its own transaction)

Revision ID: 0015_stripe_per_store
Revises: 0014_customer_portal
Create Date: 2027-04-02

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0015_stripe_per_store'
down_revision = '0014_customer_portal'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_provider', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('stripe_publishable_key', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('stripe_secret_key_encrypted', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('stripe_secret_key_hint', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('stripe_webhook_secret_encrypted', sa.Text(), nullable=True))

    with op.batch_alter_table('payment_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_secret', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('provider_customer_id', sa.String(length=100), nullable=True))

    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_customer_id', sa.String(length=100), nullable=True))

    op.create_table('coupon_holds',
    sa.Column('checkout_session_id', sa.String(length=64), nullable=False),
    sa.Column('coupon_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('checkout_session_id', name=op.f('pk_coupon_holds'))
    )
    with op.batch_alter_table('coupon_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_holds_coupon_id'), ['coupon_id'], unique=False)

    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payouts_provider_payout_id'), ['provider_payout_id'], unique=False)


def downgrade():
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payouts_provider_payout_id'))

    op.drop_table('coupon_holds')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('provider_customer_id')

    with op.batch_alter_table('payment_attempts', schema=None) as batch_op:
        batch_op.drop_column('provider_customer_id')
        batch_op.drop_column('client_secret')

    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_column('stripe_webhook_secret_encrypted')
        batch_op.drop_column('stripe_secret_key_hint')
        batch_op.drop_column('stripe_secret_key_encrypted')
        batch_op.drop_column('stripe_publishable_key')
        batch_op.drop_column('payment_provider')
