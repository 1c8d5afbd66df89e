"""How far a store is from selling, for the overview's "Next steps": each step is ticked off
once it is done, and the list goes once every step is. Read from the rows themselves (one
EXISTS each), so a step undone (the last page archived, every key revoked) shows again."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checkie.catalog.models import Page, PageStatus
from checkie.payments.models import Payment
from checkie.stores.models import ApiKey, Role, StoreMember


@dataclass(frozen=True)
class SetupProgress:
    published_page: bool
    first_payment: bool
    team_invited: bool
    api_key: bool

    @property
    def complete(self) -> bool:
        return self.published_page and self.first_payment and self.team_invited and self.api_key


def setup_progress(db: Session, store_id: int) -> SetupProgress:
    def exists(stmt: sa.Select) -> bool:
        return bool(db.scalar(sa.select(stmt.exists())))

    return SetupProgress(
        published_page=exists(sa.select(Page.id).where(Page.store_id == store_id, Page.status == PageStatus.PUBLISHED)),
        first_payment=exists(sa.select(Payment.id).where(Payment.store_id == store_id)),
        # Someone besides the owner, joined or still invited.
        team_invited=exists(sa.select(StoreMember.id).where(StoreMember.store_id == store_id, StoreMember.role != Role.OWNER)),
        api_key=exists(sa.select(ApiKey.id).where(ApiKey.store_id == store_id, ApiKey.revoked_at.is_(None))),
    )
