"""Email addresses as every domain accepts them: checked for syntax only (never DNS, so nothing
waits on a resolver or breaks offline), with `.test` addresses (RFC 2606: they never receive
mail) allowed for demos and tests."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

__all__ = ["EmailNotValidError", "normalized_email"]


def normalized_email(text: str) -> str:
    """The address in its normalised form (the domain lower-cased); EmailNotValidError otherwise.
    Callers that key on the address lower-case it themselves."""
    return validate_email(text, check_deliverability=False, test_environment=True).normalized
