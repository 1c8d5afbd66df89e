"""How often anyone may try an account's password or ask for its emails (SPEC §9).

Pure policy, read by the dashboard and the JSON API. Both interfaces use the same shared
scopes, so one address's counter is the same whichever door is knocked on: switching from
the HTML form to the API buys a password guesser nothing.
"""
from __future__ import annotations

#: Per client IP, on each POST that checks a password or sends an account email.
PER_IP = "20/minute"
#: Per submitted email address, whatever the IP: slows guessing one account from many hosts.
PER_EMAIL = "5/minute"
#: Per client IP on sign-up (every sign-up sends an email).
SIGN_UP_PER_IP = "10/minute"

#: Shared-limit scopes (Flask-Limiter `shared_limit`), keyed by the lower-cased address.
LOGIN_EMAIL_SCOPE = "accounts-login-email"
RESET_EMAIL_SCOPE = "accounts-reset-email"
