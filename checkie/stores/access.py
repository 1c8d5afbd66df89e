"""Who may act on which store. Every store-scoped route — dashboard or API — goes through here,
so another store's id is a 404 and a role that may not act is a 403, in one place."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.database import utcnow
from checkie.errors import NotFound, PermissionDenied
from checkie.security import hash_token
from checkie.stores.models import ApiKey, MemberStatus, Role, Store, StoreMember

#: An API key acts like an admin of its own store: it cannot manage members, keys or the store itself.
API_KEY_ROLE = Role.ADMIN
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def membership(db: Session, user_id: int, store_id: int) -> StoreMember | None:
    return db.scalar(
        sa.select(StoreMember).where(
            StoreMember.store_id == store_id,
            StoreMember.user_id == user_id,
            StoreMember.status == MemberStatus.ACTIVE,
        )
    )


def _check_role(role: Role, required: Role) -> None:
    if not role.at_least(required):
        raise PermissionDenied(f"Your role ({role.value}) cannot do this; it needs {required.value}.")


def store_for_user(db: Session, user_id: int, store_id: int, *, required: Role = Role.VIEWER) -> tuple[Store, Role]:
    """The store and the user's role in it; NotFound if not a member, PermissionDenied if the role is too low."""
    member = membership(db, user_id, store_id)
    if member is None:
        raise NotFound("Store not found.")
    _check_role(member.role, required)
    return member.store, member.role


def store_for_api_key(db: Session, api_key: ApiKey, store_id: int, *, required: Role = Role.VIEWER) -> tuple[Store, Role]:
    if api_key.store_id != store_id:
        raise NotFound("Store not found.")
    _check_role(API_KEY_ROLE, required)
    return api_key.store, API_KEY_ROLE


def stores_of_user(db: Session, user_id: int) -> list[tuple[Store, Role]]:
    rows = db.execute(
        sa.select(Store, StoreMember.role)
        .join(StoreMember, StoreMember.store_id == Store.id)
        .where(StoreMember.user_id == user_id, StoreMember.status == MemberStatus.ACTIVE)
        .order_by(Store.name, Store.id)
    ).all()
    return [(store, role) for store, role in rows]


def find_api_key(db: Session, raw_key: str) -> ApiKey | None:
    """The live (unrevoked) key for `raw_key`, noting when it was last used (at most once a minute)."""
    key = db.scalar(sa.select(ApiKey).where(ApiKey.key_hash == hash_token(raw_key), ApiKey.revoked_at.is_(None)))
    if key is not None:
        now = utcnow()
        if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
            key.last_used_at = now
    return key
