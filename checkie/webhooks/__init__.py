"""Merchant webhooks (SPEC §7): endpoints, events in an outbox, signed deliveries."""
