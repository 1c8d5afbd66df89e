"""store_balances.payment_count and payment_volume: the store overview's running totals

Revision ID: 0005_balance_payment_totals
Revises: 0004_page_versions
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0005_balance_payment_totals'
down_revision = '0004_page_versions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('store_balances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_count', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('payment_volume', sa.BigInteger(), server_default='0', nullable=False))
    # The totals of the ledger's payment rows so far (a correlated subquery: SQLite has no UPDATE … FROM before 3.33).
    op.execute("""
        UPDATE store_balances SET
            payment_count = (SELECT count(*) FROM balance_transactions t
                             WHERE t.store_id = store_balances.store_id AND t.currency = store_balances.currency
                               AND t.type = 'payment'),
            payment_volume = (SELECT coalesce(sum(t.amount), 0) FROM balance_transactions t
                              WHERE t.store_id = store_balances.store_id AND t.currency = store_balances.currency
                                AND t.type = 'payment')
    """)


def downgrade():
    with op.batch_alter_table('store_balances', schema=None) as batch_op:
        batch_op.drop_column('payment_volume')
        batch_op.drop_column('payment_count')
