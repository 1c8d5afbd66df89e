"""Checkout sessions: the state table, transitions, guards, expiry and idempotency keys."""
