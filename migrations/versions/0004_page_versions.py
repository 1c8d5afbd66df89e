"""pages.version: what catalog.snapshot caches shopper views of pages under

Revision ID: 0004_page_versions
Revises: 0003_checkout_payments
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0004_page_versions'
down_revision = '0003_checkout_payments'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_column('version')
