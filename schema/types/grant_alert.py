"""The `GrantAlert` type: a company told about a grant, and the update sent to `grantAlerts` subscribers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_app.services.grant_alerts import AlertPage, AlertUpdate, AlertWithGrant
from schema.connections import Connection, page_connection
from schema.enums import GrantAlertReason
from schema.types.grant import Grant


@strawberry.type(description="A company is told about a grant: new, changed, or closing soon.")
class GrantAlert:
    id: strawberry.ID = strawberry.field(description="The alert's UUID.")
    reason: GrantAlertReason = strawberry.field(description="Why the company is told.")
    score: float = strawberry.field(description="The match's total score (0..1) when the alert was raised.")
    grant: Grant = strawberry.field(description="The grant the alert is about (as it is now).")
    company_id: strawberry.ID = strawberry.field(description="The UUID of the company alerted.")
    raised_at: datetime = strawberry.field(description="When the alert was (last) raised.")
    read_at: datetime | None = strawberry.field(description="When it was marked read; null while unread.")
    db_company_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The alert has been marked read.")
    def is_read(self) -> bool:
        return self.read_at is not None

    @strawberry.field(description="The company alerted.")
    async def company(self, info: Info) -> Annotated[Company, strawberry.lazy("schema.types.company")]:  # noqa: F821
        from schema.types.company import Company

        return Company.from_row(await info.context.loaders.company_by_id.load(self.db_company_id))

    @classmethod
    def from_item(cls, item: AlertWithGrant) -> GrantAlert:
        row = item.alert
        return cls(
            id=str(row.id),
            reason=GrantAlertReason(row.reason),
            score=row.score,
            grant=Grant.from_row(item.grant),
            company_id=str(row.company_id),
            db_company_id=row.company_id,
            raised_at=row.updated_at,
            read_at=row.read_at,
        )


def grant_alert_connection(page: AlertPage) -> Connection[GrantAlert]:
    return page_connection(page, [GrantAlert.from_item(item) for item in page.items])


@strawberry.type(description="What `grantAlerts` subscribers receive: the unread count, and the alert just raised.")
class GrantAlertUpdate:
    unread_count: int = strawberry.field(description="The company's unread alerts now.")
    alert: GrantAlert | None = strawberry.field(
        description="The alert just raised; null in the first update and when only the count changed."
    )

    @classmethod
    def from_update(cls, update: AlertUpdate) -> GrantAlertUpdate:
        return cls(
            unread_count=update.unread_count,
            alert=GrantAlert.from_item(update.alert) if update.alert is not None else None,
        )


@strawberry.type(description="The outcome of `markGrantAlertsRead`.")
class GrantAlertsRead:
    marked_count: int = strawberry.field(description="Alerts marked read now (already read ones not counted).")
    unread_count: int = strawberry.field(description="The company's unread alerts left.")
