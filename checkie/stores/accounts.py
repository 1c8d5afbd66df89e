"""What stores ask of an account's life: a store cannot be left without an owner, so a user who
owns one cannot delete their account. Lives in stores because accounts come before stores in
the domain line (README, "Project layout") and know nothing of them."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.accounts import services as accounts
from checkie.accounts.models import User
from checkie.errors import Conflict
from checkie.stores.access import stores_of_user
from checkie.stores.models import Role, Store


def owned_stores(db: Session, user: User) -> list[Store]:
    """Stores the user owns: by owner role or by the store's owner column (either blocks deletion)."""
    owned = {store.id: store for store, role in stores_of_user(db, user.id) if role is Role.OWNER}
    for store in db.scalars(sa.select(Store).where(Store.owner_id == user.id)):
        owned.setdefault(store.id, store)
    return sorted(owned.values(), key=lambda store: (store.name, store.id))


def delete_user(db: Session, user: User, *, password: str) -> None:
    """Delete the account after the password confirms it. Refused (Conflict) while the user owns
    a store, since a store cannot be left without an owner; memberships, links and refresh
    tokens go with the user (ON DELETE CASCADE)."""
    accounts.check_current_password(user, password, field="password", message="That password is not correct.")
    stores = owned_stores(db, user)
    if stores:
        names = ", ".join(store.name for store in stores)
        which = "that store" if len(stores) == 1 else "those stores"
        raise Conflict(f"You own {names}. Delete {which} first, then delete your account.", code="owns_stores")
    db.delete(user)
    db.flush()
