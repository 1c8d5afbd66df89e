"""Shopper-facing pages: the hosted checkout, embed pages and the test provider's 3DS page."""
