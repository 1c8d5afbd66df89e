"""customers.services: one customer per email and store, created safely under concurrency,
and every read scoped by store."""
from __future__ import annotations

import sqlalchemy as sa

from checkie.customers import services
from checkie.customers.models import Customer
from tests.concurrency import run_concurrently
from tests.factories import make_store


def test_creates_a_customer_with_a_lower_cased_email(db, store):
    customer = services.find_or_create_customer(db, store.id, email="  Ada@Example.COM ", name="Ada")
    db.commit()
    assert (customer.store_id, customer.email, customer.name) == (store.id, "ada@example.com", "Ada")


def test_finds_the_same_customer_whatever_the_case(db, store):
    first = services.find_or_create_customer(db, store.id, email="ada@example.com", name=None)
    again = services.find_or_create_customer(db, store.id, email="ADA@example.com", name="Ada Lovelace")
    later = services.find_or_create_customer(db, store.id, email="ada@EXAMPLE.com", name="Someone Else")
    db.commit()
    assert first.id == again.id == later.id
    assert later.name == "Ada Lovelace"  # a missing name is filled in; a known one is kept
    assert db.scalar(sa.select(sa.func.count(Customer.id))) == 1


def test_the_same_email_in_two_stores_is_two_customers(db, store):
    other = make_store(db, name="Other Shop")
    mine = services.find_or_create_customer(db, store.id, email="ada@example.com", name="Ada")
    theirs = services.find_or_create_customer(db, other.id, email="ada@example.com", name="Ada")
    db.commit()
    assert mine.id != theirs.id


def test_concurrent_first_purchases_create_one_customer(app, db, store):
    store_id = store.id
    ids = run_concurrently(app, 15, lambda session, index: services.find_or_create_customer(
        session, store_id, email="Race@Example.com" if index % 2 else "race@example.com", name=f"Racer {index}").id)
    assert len(set(ids)) == 1
    [customer] = db.scalars(sa.select(Customer)).all()
    assert customer.email == "race@example.com" and customer.name.startswith("Racer ")
