"""The email outbox: every email is a row first, then sent by a task."""
