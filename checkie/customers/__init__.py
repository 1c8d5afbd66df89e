"""Buyers of a store: found or created when a payment succeeds."""
