"""Merchant users: registration, passwords, sessions, reset tokens and API refresh tokens."""
