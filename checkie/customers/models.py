from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from checkie.database import BigId, UTCDateTime, utcnow
from checkie.extensions import Model


class Customer(Model):
    __tablename__ = "customers"
    __table_args__ = (sa.UniqueConstraint("store_id", "email", name="uq_customers_store_email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    #: Lower-cased; one customer per address per store.
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str | None] = mapped_column(sa.String(200))
    #: The PSP's customer id (e.g. Stripe `cus_…`), when the provider keeps customers.
    provider_customer_id: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
