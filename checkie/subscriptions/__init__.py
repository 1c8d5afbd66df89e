"""Subscriptions: recurring charges of a subscription page, driven by durable renewal rows."""
