"""embeds.settings: keys in snake_case (button_text, brand_color), the names of create_embed's
arguments; the JSON API keeps answering them in camelCase

Revision ID: 0008_embed_settings_snake_case
Revises: 0007_user_sessions
Create Date: 2027-01-12

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0008_embed_settings_snake_case'
down_revision = '0007_user_sessions'
branch_labels = None
depends_on = None

#: The settings keys before (camelCase) and after (snake_case); `theme` is the same in both.
RENAMED = {'buttonText': 'button_text', 'brandColor': 'brand_color'}

# The JSON is rewritten in Python, so the same code runs on PostgreSQL (JSONB) and SQLite (JSON
# as text); only the rows whose settings change are written.
embeds = sa.table(
    'embeds', sa.column('id', sa.BigInteger),
    sa.column('settings', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')),
)


def _renamed(settings, names):
    """`settings` with each key in `names` renamed (other keys as they are)."""
    return {names.get(key, key): value for key, value in (settings or {}).items()}


def _rewrite(names):
    bind = op.get_bind()
    for embed_id, settings in bind.execute(sa.select(embeds.c.id, embeds.c.settings)).all():
        new = _renamed(settings, names)
        if new != settings:
            bind.execute(sa.update(embeds).where(embeds.c.id == embed_id).values(settings=new))


def upgrade():
    _rewrite(RENAMED)


def downgrade():
    _rewrite({new: old for old, new in RENAMED.items()})
