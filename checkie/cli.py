"""Flask CLI commands (`flask --app wsgi …`).

`seed-demo` gives a fresh embedded install something to log in to: `make run` calls it on
every start, so it must be idempotent.
"""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from checkie.accounts.models import User
from checkie.accounts.services import create_user
from checkie.catalog import fields, pages, variants
from checkie.extensions import db
from checkie.stores.models import Store
from checkie.stores.services import create_store

#: The demo merchant. Documented in the README; the password is public, so production refuses it.
DEMO_EMAIL = "demo@checkie.test"
DEMO_PASSWORD = "checkie-demo-password"
DEMO_NAME = "Demo Merchant"
DEMO_STORE_NAME = "Demo Store"
DEMO_CURRENCY = "USD"
DEMO_PAGE_SLUG = "t-shirt"
DEMO_SUBSCRIPTION_SLUG = "coffee-club"


def seed_demo(session: Session) -> tuple[User, Store, bool]:
    """Create the verified demo user and their store unless they exist; flush, never commit.

    Returns (user, store, created) where `created` says whether anything new was written."""
    created = False
    user = session.scalar(sa.select(User).where(User.email == DEMO_EMAIL))
    if user is None:
        user = create_user(session, email=DEMO_EMAIL, password=DEMO_PASSWORD, name=DEMO_NAME, verified=True)
        created = True
    store = session.scalar(
        sa.select(Store).where(Store.owner_id == user.id, Store.name == DEMO_STORE_NAME).order_by(Store.id).limit(1)
    )
    if store is None:
        store = create_store(session, owner=user, name=DEMO_STORE_NAME, currency=DEMO_CURRENCY)
        created = True
        seed_demo_page(session, store)
    return user, store, created


def seed_demo_page(session: Session, store: Store) -> None:
    """A published page with a variant and a field, so a newcomer can buy something with the
    test card straight away (only with a new demo store: a merchant's edits are never undone)."""
    page = pages.create_page(
        session, store, title="Demo T-shirt", slug=DEMO_PAGE_SLUG, amount=2500,
        description="Organic cotton. Pay with the test card 4242 4242 4242 4242.", allow_coupons=True,
    )
    size = variants.add_variant(session, page, name="Size")
    for name, delta in (("S", 0), ("M", 0), ("L", 200)):
        variants.add_option(session, size, name=name, price_delta=delta)
    fields.create_field(session, page, label="Name to print on the back", type="text")
    pages.publish_page(session, page)
    club = pages.create_page(
        session, store, title="Coffee Club", slug=DEMO_SUBSCRIPTION_SLUG, amount=900, pricing_type="subscription",
        interval="month", interval_count=1, trial_days=14,
        description="A bag of fresh beans every month; the first 14 days are free. Move the store's test clock "
                    "forward from the dashboard to see the renewals.",
    )
    pages.publish_page(session, club)


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the demo merchant and the "Demo Store" (safe to run again; refused in production)."""
    if current_app.config["CHECKIE_ENV"] == "production":
        raise click.ClickException("seed-demo creates an account with a published password; it is refused in production.")
    user, store, created = seed_demo(db.session)
    db.session.commit()
    app_url = current_app.config["APP_URL"]
    click.echo("Demo merchant " + ("created." if created else "already there."))
    click.echo(f"  Checkie:   {app_url}")
    click.echo(f"  Log in at: {app_url}/login")
    click.echo(f"  Email:     {DEMO_EMAIL}")
    click.echo(f"  Password:  {DEMO_PASSWORD}")
    click.echo(f"  Store:     {store.name} ({store.currency}, slug {store.slug})")
    click.echo(f"  Try it:    {app_url}/c/{store.slug}/{DEMO_PAGE_SLUG} (test card 4242 4242 4242 4242)")
    click.echo(f"  Subscribe: {app_url}/c/{store.slug}/{DEMO_SUBSCRIPTION_SLUG} (a monthly plan with a free trial)")


def init_cli(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
