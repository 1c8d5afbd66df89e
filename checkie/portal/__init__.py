"""The customer portal (SPEC §6.4): a store's customers sign in by magic link and see their
purchases, receipts and subscriptions, store-branded, under /portal/<store_slug>/…"""
from checkie.portal import pages

BLUEPRINTS = (pages.bp,)
