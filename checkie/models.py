"""Imports every domain's models so SQLAlchemy and Alembic see all tables."""
from checkie.accounts.models import RefreshToken, User, UserToken
from checkie.catalog.models import (
    Coupon,
    CustomField,
    Embed,
    Page,
    PageStats,
    Variant,
    VariantOption,
)
from checkie.notifications.models import EmailMessage
from checkie.stores.models import ApiKey, Store, StoreMember

__all__ = [
    "Page", "Variant", "VariantOption", "CustomField", "Coupon", "Embed", "PageStats",
    "User", "UserToken", "RefreshToken", "Store", "StoreMember", "ApiKey", "EmailMessage"]
