"""Imports every domain's models so SQLAlchemy and Alembic see all tables."""
from checkie.accounts.models import PasswordResetToken, RefreshToken, User
from checkie.notifications.models import EmailMessage
from checkie.stores.models import ApiKey, Store, StoreMember

__all__ = ["User", "PasswordResetToken", "RefreshToken", "Store", "StoreMember", "ApiKey", "EmailMessage"]
