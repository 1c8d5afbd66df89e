"""Shopper-facing pages: the hosted checkout, embed pages and the test provider's 3DS page, and
the public guide to embedding them."""
from checkie.storefront import checkout, embed_docs

BLUEPRINTS = (checkout.hosted, checkout.framed, embed_docs.bp)
