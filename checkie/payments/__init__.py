"""Payment attempts, payments, inbound PSP events and the per-store ledger."""
