"""An account's email address in the one form it is stored, looked up and rate limited by.

Every spelling that reaches one account must reach one rate-limit counter too: keying the
limits on a looser form (`strip().lower()`) let `ada@ｅxample.com`, which the lookup folds
into `ada@example.com`, buy a fresh allowance of password guesses against the same account.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.accounts.models import User
from checkie.email_addresses import EmailNotValidError, normalized_email


def account_email(raw: str) -> str:
    """The stored form: stripped, checked, Unicode-normalised (full-width letters in the domain
    become ASCII) and lower-cased. EmailNotValidError for what cannot be an address."""
    return normalized_email(raw.strip()).lower()


def find_user_by_email(db: Session, email: str) -> User | None:
    """The user with this address, compared in stored form. An address that does not validate
    cannot belong to anyone, so it is not even looked up (this also keeps NUL bytes and other
    junk away from the database)."""
    try:
        normalised = account_email(email)
    except EmailNotValidError:
        return None
    return db.scalar(sa.select(User).where(User.email == normalised))
