"""Customers: a store's buyers, one per email address, created when a payment succeeds."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from checkie.customers.models import Customer


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_customer(db: Session, store_id: int, email: str) -> Customer | None:
    return db.scalar(sa.select(Customer).where(Customer.store_id == store_id, Customer.email == normalize_email(email)))


def find_or_create_customer(db: Session, store_id: int, *, email: str, name: str | None) -> Customer:
    """The store's customer with this email (lower-cased), created if new. Safe when two
    payments create the same customer at once: the loser's insert fails on the unique
    (store, email) constraint inside a savepoint and it reads the winner's row. A known
    customer without a name takes this one; an existing name is kept."""
    email = normalize_email(email)
    customer = find_customer(db, store_id, email)
    if customer is None:
        try:
            with db.begin_nested():
                customer = Customer(store_id=store_id, email=email, name=name or None)
                db.add(customer)
        except IntegrityError:
            customer = find_customer(db, store_id, email)
            if customer is None:  # not a duplicate after all (e.g. the store is gone)
                raise
    if name and not customer.name:
        customer.name = name
    db.flush()
    return customer
