"""Payouts: the store's bank account, payouts (durable work with a lease), the ledger's payout
reference and the test provider's idempotency record

Revision ID: 0012_payouts
Revises: 0011_refunds
Create Date: 2027-02-10

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012_payouts'
down_revision = '0011_refunds'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('payout_accounts',
    sa.Column('store_id', ID, nullable=False),
    sa.Column('holder_name', sa.String(length=200), nullable=False),
    sa.Column('routing_number', sa.String(length=9), nullable=False),
    sa.Column('account_number_encrypted', sa.Text(), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_payout_accounts_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_payout_accounts'))
    )
    op.create_table('payouts',
    sa.Column('id', ID, nullable=False),
    sa.Column('store_id', ID, nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Enum('requested', 'processing', 'paid', 'failed', name='payout_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_payout_id', sa.String(length=100), nullable=True),
    sa.Column('failure_code', sa.String(length=100), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_payouts_store_id_stores'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts'))
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index('ix_payouts_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_payouts_store_id_id', ['store_id', sa.text('id DESC')], unique=False)

    with op.batch_alter_table('balance_transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payout_id', ID, nullable=True))
        batch_op.create_index(batch_op.f('ix_balance_transactions_payout_id'), ['payout_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_balance_transactions_payout_id_payouts'), 'payouts', ['payout_id'], ['id'], ondelete='RESTRICT')

    op.create_table('test_provider_payouts',
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('payout_id', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('failure_code', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('idempotency_key', name=op.f('pk_test_provider_payouts')),
    sa.UniqueConstraint('payout_id', name=op.f('uq_test_provider_payouts_payout_id'))
    )


def downgrade():
    op.drop_table('test_provider_payouts')
    with op.batch_alter_table('balance_transactions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_balance_transactions_payout_id_payouts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_balance_transactions_payout_id'))
        batch_op.drop_column('payout_id')
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index('ix_payouts_store_id_id')
        batch_op.drop_index('ix_payouts_status_due_at')
    op.drop_table('payouts')
    op.drop_table('payout_accounts')
