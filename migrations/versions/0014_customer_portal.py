"""Customer portal: magic links, portal sessions, and the store's portal settings and colour

Revision ID: 0014_customer_portal
Revises: 0013_subscriptions
Create Date: 2027-03-20

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0014_customer_portal'
down_revision = '0013_subscriptions'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TIME = sa.DateTime(timezone=True)


def upgrade():
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('brand_color', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('portal_allow_cancel', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('portal_allow_pause', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('portal_links',
    sa.Column('id', ID, nullable=False),
    sa.Column('store_id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('requested', 'merchant', name='portal_link_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('expires_at', TIME, nullable=False),
    sa.Column('used_at', TIME, nullable=True),
    sa.Column('replaced_at', TIME, nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_portal_links_store_id_stores'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_portal_links_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_portal_links_token_hash'))
    )
    with op.batch_alter_table('portal_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_links_store_id'), ['store_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_links_customer_id'), ['customer_id'], unique=False)

    op.create_table('portal_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('store_id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('link_id', ID, nullable=True),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('expires_at', TIME, nullable=False),
    sa.Column('ended_at', TIME, nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_portal_sessions_store_id_stores'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_portal_sessions_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['link_id'], ['portal_links.id'], name=op.f('fk_portal_sessions_link_id_portal_links'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_sessions'))
    )
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_sessions_store_id'), ['store_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_sessions_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_sessions_expires_at'), ['expires_at'], unique=False)


def downgrade():
    op.drop_table('portal_sessions')
    op.drop_table('portal_links')
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_column('portal_allow_pause')
        batch_op.drop_column('portal_allow_cancel')
        batch_op.drop_column('brand_color')
