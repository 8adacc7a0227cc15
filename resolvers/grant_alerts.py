"""Grant alerts: the list, marking read, alert settings, and the `grantAlerts` subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_app import validation
from graphql_app.services import grant_alerts
from resolvers.common import input_fields
from resolvers.computations import events_hub
from schema.connections import Connection
from schema.inputs import CompanyAlertSettingsInput
from schema.types.company import Company
from schema.types.grant_alert import GrantAlert, GrantAlertsRead, GrantAlertUpdate, grant_alert_connection

CompanyIdArg = Annotated[strawberry.ID, strawberry.argument(description="The company's UUID.")]


async def grant_alerts_page(
    info: Info,
    company_id: CompanyIdArg,
    unread_only: Annotated[bool, strawberry.argument(description="Only alerts not yet marked read.")] = False,
    first: Annotated[int, strawberry.argument(description="Page size, 1–100.")] = 20,
    after: Annotated[str | None, strawberry.argument(description="Cursor to continue after.")] = None,
) -> Connection[GrantAlert]:
    page = await grant_alerts.list_alerts(
        info.context.db,
        info.context.viewer,
        validation.parse_uuid(company_id, "companyId"),
        unread_only=unread_only,
        first=validation.page_size(first),
        after=after,
    )
    return grant_alert_connection(page)


async def mark_grant_alerts_read(
    info: Info,
    company_id: CompanyIdArg,
    alert_ids: Annotated[
        list[strawberry.ID] | None,
        strawberry.argument(description="The alerts to mark (the company's own); omitted: all of them."),
    ] = None,
) -> GrantAlertsRead:
    ids = None
    if alert_ids is not None:
        ids = [validation.parse_uuid(i, "alertIds") for i in validation.bounded_list(alert_ids, "alert_ids")]
    marked, unread = await grant_alerts.mark_read(
        info.context.db, info.context.viewer, validation.parse_uuid(company_id, "companyId"), ids
    )
    return GrantAlertsRead(marked_count=marked, unread_count=unread)


async def update_company_alert_settings(
    info: Info,
    company_id: CompanyIdArg,
    input: Annotated[CompanyAlertSettingsInput, strawberry.argument(description="The settings to change.")],
) -> Company:
    fields = input_fields(input)
    changes = {}
    if "alert_min_score" in fields:
        changes["alert_min_score"] = validation.score_threshold(fields["alert_min_score"], "alertMinScore")
    if "alert_carbon_focused_only" in fields:
        changes["alert_carbon_focused_only"] = bool(fields["alert_carbon_focused_only"])
    if "alert_min_amount" in fields:
        changes["alert_min_amount"] = validation.amount(fields["alert_min_amount"], "alertMinAmount")
    row = await grant_alerts.update_alert_settings(
        info.context.db, info.context.viewer, validation.parse_uuid(company_id, "companyId"), changes
    )
    return Company.from_row(row)


async def grant_alert_updates(info: Info, company_id: CompanyIdArg) -> AsyncGenerator[GrantAlertUpdate, None]:
    """The unread count first, then every alert raised and every change of the count."""
    updates = grant_alerts.follow_alerts(
        info.context.db, events_hub(info), info.context.viewer, validation.parse_uuid(company_id, "companyId")
    )
    async for update in updates:
        yield GrantAlertUpdate.from_update(update)
