"""Stores, their members and roles, and store API keys."""
