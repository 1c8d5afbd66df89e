"""Dashboard: a page's embeds — list them with a live preview and the code to paste (and a copy
button), create, delete.

The preview is rendered into the dashboard page itself, not framed. Neither candidate frame
source would work or be harmless here:
- `/embed/<public id>` opens a checkout session and counts a page view (it is the shopper's
  entry point), so every visit to this screen would skew the page's stats; and an embed with
  allowed origins refuses to be framed by Checkie's own origin (`frame-ancestors` lists only
  the merchant's sites), so its preview would be blank.
- `pages.preview` (the read-only preview) sends `frame-ancestors 'none'` like every non-embed
  page (SPEC §9), so browsers refuse to frame it too.
So each embed shows, inside a box styled with the embed's theme and brand colour (the frame's own
/embed/<id>/theme.css, which also colours `[data-brand-embed]`): for `inline`, the checkout as
the frame lays it out (store, title, price, the disabled details form; no session, no view);
for `button`, the button with its text; for `link`, the link with its text. The button and the
link lead to the read-only preview (what the overlay or the checkout would show), never to
the live checkout, so trying them creates no session either. No frame, no inline script or
style: it keeps to the dashboard's CSP as it is.
"""
from __future__ import annotations

from flask import Blueprint, current_app, url_for

from checkie.catalog import embeds, pages
from checkie.catalog.models import Page
from checkie.checkout import pricing
from checkie.dashboard.forms.embeds import EmbedForm
from checkie.dashboard.guards import store_required
from checkie.errors import NotFound, ValidationFailed
from checkie.extensions import db
from checkie.form_errors import copy_errors
from checkie.htmx_responses import fragment_or_see_other, render_page
from checkie.stores.models import Role, Store

bp = Blueprint("embeds", __name__)
BASE = "/dashboard/stores/<int:store_id>/pages/<int:page_id>/embeds"


def _opening_total(page: Page) -> int:
    """What the live checkout shows before the shopper picks anything (minor units): the page's
    amount with the first option of each variant, as checkout.pricing opens every session."""
    return pricing.subtotal_for(page, pricing.default_variant_options(page))


def _render(store: Store, page: Page, *, form: EmbedForm | None = None, status: int = 200, **context):
    app_url = current_app.config["APP_URL"]
    listed = [
        (embed, embeds.embed_code(embed, app_url), embeds.settings_of(embed))
        for embed in embeds.list_embeds(db.session, page)
    ]
    return render_page(
        "dashboard/embeds/index.html", block="embeds", status=status, store=store, page=page, embeds=listed,
        form=form or EmbedForm(formdata=None), preview_total=_opening_total(page),
        preview_url=url_for("pages.preview", store_id=store.id, page_id=page.id),
        checkout_url=embeds.checkout_url(page, app_url), **context,
    )


def _done(store: Store, page: Page, message: str, *, status: int = 200):
    return fragment_or_see_other(
        lambda: _render(store, page, status=status, notice=message),
        url=url_for("embeds.index", store_id=store.id, page_id=page.id), message=message,
    )


@bp.get(BASE)
@store_required(Role.VIEWER)
def index(store: Store, page_id: int):
    return _render(store, pages.get_page(db.session, store, page_id))


@bp.post(BASE)
@store_required(Role.ADMIN)
def create(store: Store, page_id: int):
    page = pages.get_page(db.session, store, page_id)
    form = EmbedForm()
    if form.validate_on_submit():
        try:
            embed = embeds.create_embed(
                db.session, page, type=form.type.data, allowed_origins=form.origin_lines(), **form.settings(),
            )
        except ValidationFailed as error:
            copy_errors(form, error)
        else:
            db.session.commit()
            message = f"Created the {embed.type.value} embed {embed.public_id}: copy its code below."
            return _done(store, page, message, status=201)
    return _render(store, page, form=form, status=422)


@bp.post(BASE + "/<int:embed_id>/delete")
@store_required(Role.ADMIN)
def delete(store: Store, page_id: int, embed_id: int):
    page = pages.get_page(db.session, store, page_id)
    embed = embeds.get_embed(db.session, store, embed_id)
    if embed.page_id != page.id:
        raise NotFound("Embed not found.")
    embeds.delete_embed(db.session, embed)
    db.session.commit()
    return _done(store, page, f"Deleted {embed.public_id}: sites using its code no longer show the checkout.")
