"""Imports every domain's models so SQLAlchemy and Alembic see all tables."""
from checkie.accounts.models import UserToken, RefreshToken, User
from checkie.notifications.models import EmailMessage
from checkie.stores.models import ApiKey, Store, StoreMember

__all__ = ["User", "UserToken", "RefreshToken", "Store", "StoreMember", "ApiKey", "EmailMessage"]
