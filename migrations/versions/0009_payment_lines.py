"""payments.line: what was sold, frozen at payment time (checkout.lines); stores.notify_new_sale:
the owner's "new sale" email, on by default

Existing payments get their line from their checkout session and its page as they are now (the
best record left); a payment whose session is gone gets its page's title and its amount.

Revision ID: 0009_payment_lines
Revises: 0008_embed_settings_snake_case
Create Date: 2027-01-20

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0009_payment_lines'
down_revision = '0008_embed_settings_snake_case'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')

# The tables as this revision knows them (the models may change later; this must not).
payments = sa.table(
    'payments', sa.column('id', sa.BigInteger), sa.column('session_id', sa.String), sa.column('page_id', sa.BigInteger),
    sa.column('amount', sa.BigInteger), sa.column('currency', sa.String), sa.column('line', JSON),
)
sessions = sa.table(
    'checkout_sessions', sa.column('id', sa.String), sa.column('page_id', sa.BigInteger),
    sa.column('variant_options', JSON), sa.column('custom_fields', JSON), sa.column('coupon_id', sa.BigInteger),
    sa.column('subtotal', sa.BigInteger), sa.column('discount', sa.BigInteger), sa.column('total', sa.BigInteger),
    sa.column('currency', sa.String),
)
pages = sa.table('pages', sa.column('id', sa.BigInteger), sa.column('title', sa.String), sa.column('amount', sa.BigInteger))
variants = sa.table('variants', sa.column('id', sa.BigInteger), sa.column('page_id', sa.BigInteger),
                    sa.column('name', sa.String), sa.column('position', sa.Integer))
options = sa.table('variant_options', sa.column('id', sa.BigInteger), sa.column('variant_id', sa.BigInteger),
                   sa.column('name', sa.String), sa.column('price_delta', sa.BigInteger), sa.column('position', sa.Integer))
fields = sa.table('custom_fields', sa.column('id', sa.BigInteger), sa.column('page_id', sa.BigInteger),
                  sa.column('key', sa.String), sa.column('label', sa.String), sa.column('type', sa.String),
                  sa.column('position', sa.Integer))
coupons = sa.table('coupons', sa.column('id', sa.BigInteger), sa.column('code', sa.String))


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('line', JSON, nullable=True))
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_new_sale', sa.Boolean(), server_default=sa.true(), nullable=False))
    _backfill(op.get_bind())


def downgrade():
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_column('notify_new_sale')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('line')


def _backfill(bind):
    """A line for each payment, built in Python (the same code on PostgreSQL and SQLite); each
    page's variants and fields are read once."""
    rows = bind.execute(
        sa.select(payments.c.id, payments.c.page_id, payments.c.amount, payments.c.currency,
                  sessions.c.variant_options, sessions.c.custom_fields, sessions.c.coupon_id, sessions.c.subtotal,
                  sessions.c.discount, sessions.c.total, sessions.c.id.label('session'), pages.c.id.label('page'), pages.c.title,
                  pages.c.amount.label('price'))
        .select_from(payments.outerjoin(sessions, sessions.c.id == payments.c.session_id)
                     .outerjoin(pages, pages.c.id == sa.func.coalesce(sessions.c.page_id, payments.c.page_id)))
        .where(payments.c.line.is_(None)).order_by(payments.c.id)
    ).all()
    catalog = {}
    for row in rows:
        if row.title is None:
            continue  # neither a session nor a page: nothing to tell
        page_id = row.page
        if page_id not in catalog:
            catalog[page_id] = _page_catalog(bind, page_id)
        bind.execute(sa.update(payments).where(payments.c.id == row.id).values(line=_line(bind, row, *catalog[page_id])))


def _page_catalog(bind, page_id):
    """({option id: (variant id, variant name, option name, delta)}, [(key, label, type)]) of a page."""
    chosen = bind.execute(
        sa.select(variants.c.id, variants.c.name, options.c.id.label('option_id'), options.c.name.label('option'),
                  options.c.price_delta)
        .select_from(variants.join(options, options.c.variant_id == variants.c.id))
        .where(variants.c.page_id == page_id)
        .order_by(variants.c.position, variants.c.id, options.c.position, options.c.id)
    ).all()
    by_option = {r.option_id: (r.id, r.name, r.option, r.price_delta) for r in chosen}
    labels = bind.execute(
        sa.select(fields.c.key, fields.c.label, fields.c.type).where(fields.c.page_id == page_id)
        .order_by(fields.c.position, fields.c.id)
    ).all()
    return by_option, [tuple(label) for label in labels]


def _line(bind, row, by_option, labels):
    page = {'id': row.page, 'title': row.title}
    if row.session is None:  # the session is gone: the page and the amount paid
        return {'page': page, 'price': row.price, 'items': [], 'answers': [],
                'coupon': None, 'subtotal': row.amount, 'discount': 0, 'total': row.amount, 'currency': row.currency}
    chosen = {str(k): v for k, v in (row.variant_options or {}).items()}
    items = [{'variant': name, 'option': option, 'price_delta': delta}
             for option_id, (variant_id, name, option, delta) in by_option.items()
             if chosen.get(str(variant_id)) == option_id]
    answers = dict(row.custom_fields or {})
    known = [{'key': key, 'label': label, 'type': kind, 'value': answers[key]}
             for key, label, kind in labels if key in answers]
    keys = {key for key, _, _ in labels}
    known += [{'key': key, 'label': key, 'type': 'text', 'value': value} for key, value in answers.items() if key not in keys]
    code = bind.scalar(sa.select(coupons.c.code).where(coupons.c.id == row.coupon_id)) if row.coupon_id else None
    return {'page': page, 'price': row.price, 'items': items, 'answers': known,
            'coupon': {'code': code, 'discount': row.discount} if code else None,
            'subtotal': row.subtotal, 'discount': row.discount, 'total': row.total, 'currency': row.currency}
