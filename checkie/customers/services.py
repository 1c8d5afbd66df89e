"""Customers: a store's buyers, one per email address, created when a payment succeeds."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.customers.models import Customer
from checkie.database import dialect_insert
from checkie.webhooks.services import record_event


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_customer(db: Session, store_id: int, email: str) -> Customer | None:
    return db.scalar(sa.select(Customer).where(Customer.store_id == store_id, Customer.email == normalize_email(email)))


def find_or_create_customer(db: Session, store_id: int, *, email: str, name: str | None) -> Customer:
    """The store's customer with this email (lower-cased), created if new. Safe when two
    payments create the same customer at once: the insert is `ON CONFLICT DO NOTHING` on the
    unique (store, email), so the loser waits for the winner's commit, inserts nothing and reads
    the winner's row (no savepoint needed). A known customer without a name takes this one; an
    existing name is kept. A new customer is a `customer.created` webhook event. Any other
    integrity error (e.g. the store is gone) is raised."""
    email = normalize_email(email)
    customer = db.scalars(
        dialect_insert(db)(Customer).values(store_id=store_id, email=email, name=name or None)
        .on_conflict_do_nothing(index_elements=["store_id", "email"])
        .returning(Customer)
    ).one_or_none()
    if customer is not None:
        record_event(db, store_id, "customer.created", customer)
        return customer
    customer = find_customer(db, store_id, email)  # known already
    if customer is None:
        raise LookupError(f"customer {email} of store {store_id} conflicted on insert but cannot be read")
    if name and not customer.name:
        customer.name = name
    db.flush()
    return customer
