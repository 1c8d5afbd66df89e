"""How often anyone may try an account's password or ask for its emails (SPEC §9).

Policy read by the dashboard and the JSON API. Both interfaces use the same shared scopes
and the same key, so one account's counter is the same whichever door is knocked on and
however its address is spelled: switching from the HTML form to the API, or to full-width
letters, buys a password guesser nothing.
"""
from __future__ import annotations

from checkie.accounts.addresses import account_email
from checkie.email_addresses import EmailNotValidError

#: Per client IP, on each POST that checks a password or sends an account email.
PER_IP = "20/minute"
#: Per submitted email address, whatever the IP: slows guessing one account from many hosts.
PER_EMAIL = "5/minute"
#: Per client IP on sign-up (every sign-up sends an email).
SIGN_UP_PER_IP = "10/minute"

#: Shared-limit scopes (Flask-Limiter `shared_limit`), keyed by `email_key`.
LOGIN_EMAIL_SCOPE = "accounts-login-email"
RESET_EMAIL_SCOPE = "accounts-reset-email"


def email_key(submitted: object) -> str | None:
    """The per-email limits' key: the address exactly as the account lookup reads it, so every
    spelling of one account counts once. None when it is no address (it matches no account;
    the caller keys such requests on the client instead)."""
    if not isinstance(submitted, str):
        return None
    try:
        return account_email(submitted)
    except EmailNotValidError:
        return None
