"""Who may see which rows — in one place, for every path that reads them.

Each rule is a function returning a SQLAlchemy condition over a table or an alias of it, with the viewer's values
as bind parameters (``viewer_tenant_id``, ``viewer_member_id``, ``viewer_subject``) and the clock as ``now``.
Services, loaders, subscriptions and the compiled query plans all build their statements from these functions;
the plans render the same conditions to SQL text once per *shape* (:func:`viewer_shape`), with the bind
parameters as positional placeholders. Rules about rows already loaded (event fan-out, a job read through a
loader) are here too, next to their SQL form.

The rules:

* **Tenant data** (companies, grant matches): the viewer's tenant; platform admins every tenant.
* **Catalogue**: grants are readable by everyone; only open grants (no deadline, or one not yet passed) are
  matched or listed by default.
* **Computations**: platform admins all; otherwise only the viewer's own tenant's — organisation users all of
  them, anyone else (members) those they started.
* **Job matches**: members their own; organisation users their organisation's; platform admins all.
* **Members**: themselves; an organisation the members it has a match with; platform admins all.
* **Jobs**: open jobs are visible to everyone; closed ones to their organisation and platform admins.
* **Webhooks** and their deliveries: the viewer's own tenant only, platform admins included (the permission
  on the fields admits organisation admins and platform admins). A tenant's events go to that tenant's webhooks
  subscribed to them, and to no other.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Text, and_, bindparam, exists, false, or_, true
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.engine import Row

from graphql_app.auth import ORGANISATION_ROLES, Principal, Role
from graphql_app.db.models import job_matches

#: Roles of an organisation's own users (platform admins are handled separately).
ORGANISATION_USER_ROLES = frozenset({Role.ORG_USER, Role.ORG_ADMIN})

#: Bind parameter names the compiled plans supply from the request (the viewer and the clock).
VIEWER_TENANT, VIEWER_MEMBER, VIEWER_SUBJECT, NOW = "viewer_tenant_id", "viewer_member_id", "viewer_subject", "now"


def _tenant(viewer: Principal):
    return bindparam(VIEWER_TENANT, viewer.tenant_id, type_=Text)


def _member(viewer: Principal):
    return bindparam(VIEWER_MEMBER, viewer.member_id, type_=UUID(as_uuid=True))


def _subject(viewer: Principal):
    return bindparam(VIEWER_SUBJECT, viewer.subject, type_=Text)


def _now(now: datetime):
    return bindparam(NOW, now, type_=DateTime(timezone=True))


def viewer_values(viewer: Principal, now: datetime) -> dict[str, Any]:
    """The values of the bind parameters above, for executing a statement built for another viewer of the same
    :func:`viewer_shape` (``graphql_app.db.statements``)."""
    return {VIEWER_TENANT: viewer.tenant_id, VIEWER_MEMBER: viewer.member_id, VIEWER_SUBJECT: viewer.subject, NOW: now}


# --- the viewer ------------------------------------------------------------------------------------------------


def has_member_identity(viewer: Principal) -> bool:
    """A MEMBER token naming its member."""
    return viewer.member_id is not None and Role.MEMBER in viewer.roles


def has_organisation_role(viewer: Principal) -> bool:
    return viewer.has_any_role(ORGANISATION_USER_ROLES)


def viewer_shape(viewer: Principal) -> tuple[bool, bool, bool]:
    """What the *text* of the conditions below depends on (their values are bind parameters)."""
    return viewer.is_platform_admin, has_member_identity(viewer), has_organisation_role(viewer)


def is_member_self(viewer: Principal, member_id: uuid.UUID) -> bool:
    return has_member_identity(viewer) and viewer.member_id == member_id


def is_org_user(viewer: Principal, tenant_id: str) -> bool:
    """An organisation user of ``tenant_id`` (any organisation role), or a platform admin."""
    return viewer.is_platform_admin or (viewer.tenant_id == tenant_id and viewer.has_any_role(ORGANISATION_ROLES))


def belongs_to_organisation(viewer: Principal, tenant_id: str) -> bool:
    """An organisation user (ORG_USER or ORG_ADMIN) of exactly that tenant; platform admins are not."""
    return viewer.tenant_id == tenant_id and has_organisation_role(viewer)


def is_org_admin(viewer: Principal, tenant_id: str) -> bool:
    return viewer.is_platform_admin or (viewer.tenant_id == tenant_id and Role.ORG_ADMIN in viewer.roles)


# --- tenant data and the catalogue -------------------------------------------------------------------------------


def tenant_rows(table: Any, viewer: Principal) -> ColumnElement:
    """Rows of a tenant-owned table (companies, grant matches) the viewer may see."""
    if viewer.is_platform_admin:
        return true()
    return table.c.tenant_id == _tenant(viewer)


def in_own_tenant(table: Any, viewer: Principal) -> ColumnElement:
    """Rows of the viewer's own tenant, for everyone including platform admins (their own organisation)."""
    return table.c.tenant_id == _tenant(viewer)


def tenant_webhooks(webhooks: Any, viewer: Principal) -> ColumnElement:
    """Webhooks the viewer may manage: those of their own tenant (platform admins too: their own organisation's)."""
    return in_own_tenant(webhooks, viewer)


def webhooks_for_events(webhooks: Any, tenant_ids: list[str], event_types: list[str]) -> ColumnElement:
    """Webhooks that may receive events of these tenants and types (each event then goes by
    :func:`webhook_receives`)."""
    return and_(
        webhooks.c.tenant_id.in_(bindparam("event_tenant_ids", tenant_ids, expanding=True)),
        webhooks.c.events.overlap(bindparam("event_types", event_types, type_=ARRAY(Text))),
    )


def webhook_receives(webhook: Row, tenant_id: str, event: str) -> bool:
    """Whether a loaded webhook receives one event: its own tenant's, of a type it subscribed to."""
    return webhook.tenant_id == tenant_id and event in webhook.events


def open_grants(grants: Any, now: datetime) -> ColumnElement:
    """Grants still open at ``now``: rolling calls, or a deadline not yet passed."""
    return or_(grants.c.deadline.is_(None), grants.c.deadline >= _now(now))


def grant_open(deadline: datetime | None, now: datetime) -> bool:
    """:func:`open_grants` for a grant already loaded."""
    return deadline is None or deadline >= now


def peer_companies(companies: Any, company: Row) -> ColumnElement:
    """Companies whose signals feed a company's collaborative score: the other companies of its own tenant."""
    return and_(
        companies.c.tenant_id == bindparam("peer_tenant_id", company.tenant_id, type_=Text),
        companies.c.id != bindparam("peer_company_id", company.id, type_=UUID(as_uuid=True)),
    )


def peers_of(peers: Any, companies: Any) -> ColumnElement:
    """:func:`peer_companies` correlated: ``peers`` rows that are peers of the ``companies`` row (fan-out)."""
    return and_(peers.c.tenant_id == companies.c.tenant_id, peers.c.id != companies.c.id)


def catalogue_order(grants: Any) -> list:
    """Soonest deadline first, rolling calls last; ties by id."""
    return [grants.c.deadline.asc().nulls_last(), grants.c.id]


def companies_order(companies: Any) -> list:
    return [companies.c.name, companies.c.id]


#: Grant-match list filters by status: ACTIVE (not dismissed), SAVED, DISMISSED.
GRANT_MATCH_STATUS = {
    "ACTIVE": lambda m: m.c.is_dismissed.is_(False),
    "SAVED": lambda m: m.c.is_saved.is_(True),
    "DISMISSED": lambda m: m.c.is_dismissed.is_(True),
}


def grant_match_list(matches: Any, grants: Any, viewer: Principal, now: datetime, status: str | None) -> list:
    """What a grant-match list shows: the viewer's tenant, open grants only (``grants`` joined on the match's
    grant), in the given status."""
    conditions = [tenant_rows(matches, viewer), open_grants(grants, now)]
    if status is not None:
        conditions.append(GRANT_MATCH_STATUS[status](matches))
    return conditions


def grant_match_order(matches: Any) -> list:
    """Best first; ties by id (the keyset of the cursors)."""
    return [matches.c.score.desc(), matches.c.id]


def company_alerts(alerts: Any, company_id: Any, *, unread_only: bool) -> list:
    """A company's grant alerts, all or the unread ones. Whether the viewer may see the company at all is
    ``tenant_rows`` on the company; an alert is the company's tenant's whenever the company is."""
    conditions = [alerts.c.company_id == company_id]
    if unread_only:
        conditions.append(alerts.c.read_at.is_(None))
    return conditions


def alerts_order(alerts: Any) -> list:
    """Newest raised first (raising an alert again gives it a new ``sequence``: the keyset of the cursors)."""
    return [alerts.c.sequence.desc()]


# --- computations ----------------------------------------------------------------------------------------------


def visible_computations(computations: Any, viewer: Principal) -> ColumnElement:
    """Computations the viewer may see."""
    if viewer.is_platform_admin:
        return true()
    own_tenant = computations.c.tenant_id == _tenant(viewer)
    if has_organisation_role(viewer):
        return own_tenant
    return and_(own_tenant, computations.c.requested_by == _subject(viewer))


def computation_visible(viewer: Principal, row: Row) -> bool:
    """:func:`visible_computations` for a row already loaded (event fan-out)."""
    if viewer.is_platform_admin:
        return True
    if row.tenant_id != viewer.tenant_id:
        return False
    return has_organisation_role(viewer) or row.requested_by == viewer.subject


def computation_scope(viewer: Principal) -> tuple:
    """Everything :func:`computation_visible` reads from the viewer: viewers with the same scope see the same
    computations (the broadcast path groups subscribers by it)."""
    if viewer.is_platform_admin:
        return ("all",)
    if has_organisation_role(viewer):
        return ("tenant", viewer.tenant_id)
    return ("requester", viewer.tenant_id, viewer.subject)


# --- members, jobs, job matches ------------------------------------------------------------------------------------


def visible_job_matches(matches: Any, viewer: Principal) -> ColumnElement:
    """Job matches the viewer may see."""
    if viewer.is_platform_admin:
        return true()
    conditions = []
    if has_member_identity(viewer):
        conditions.append(matches.c.member_id == _member(viewer))
    if has_organisation_role(viewer):
        conditions.append(matches.c.tenant_id == _tenant(viewer))
    return or_(*conditions) if conditions else false()


def visible_members(members: Any, viewer: Principal) -> ColumnElement:
    """Member profiles the viewer may see."""
    if viewer.is_platform_admin:
        return true()
    conditions = []
    if has_member_identity(viewer):
        conditions.append(members.c.id == _member(viewer))
    if has_organisation_role(viewer):
        match = job_matches.alias()
        conditions.append(
            exists().where(match.c.member_id == members.c.id, match.c.tenant_id == _tenant(viewer)).correlate(members)
        )
    return or_(*conditions) if conditions else false()


def may_list_member_matches(viewer: Principal, member_id: uuid.UUID) -> bool:
    """Whether the viewer may ask for a member's match list at all (its rows are then
    :func:`visible_job_matches`): the member, organisation users, platform admins."""
    return viewer.is_platform_admin or is_member_self(viewer, member_id) or has_organisation_role(viewer)


def open_jobs(jobs: Any) -> ColumnElement:
    """Jobs taking candidates (what a member-wide computation scores a member against)."""
    return jobs.c.is_open.is_(True)


def visible_jobs(jobs: Any, viewer: Principal, *, include_closed: bool = False) -> ColumnElement:
    """Jobs the viewer may see: open ones; with ``include_closed``, also the viewer's organisation's closed
    ones (every closed one for platform admins)."""
    if not include_closed:
        return open_jobs(jobs)
    if viewer.is_platform_admin:
        return true()
    return or_(open_jobs(jobs), jobs.c.tenant_id == _tenant(viewer))


def viewable_job(jobs: Any, viewer: Principal) -> ColumnElement:
    """One job asked for by id: open, or managed by the viewer's organisation (platform admins: any)."""
    return or_(open_jobs(jobs), organisation_jobs(jobs, viewer))


def job_visible(viewer: Principal, job: Row) -> bool:
    """:func:`viewable_job` for one job already loaded."""
    return job.is_open or is_org_user(viewer, job.tenant_id)


def jobs_order(jobs: Any, viewer: Principal) -> list:
    """The viewer's organisation's jobs first, then newest first."""
    return [(jobs.c.tenant_id == _tenant(viewer)).desc(), jobs.c.created_at.desc(), jobs.c.id]


def organisation_jobs(jobs: Any, viewer: Principal) -> ColumnElement:
    """Jobs whose matches the viewer's organisation manages (all for platform admins)."""
    if viewer.is_platform_admin:
        return true()
    if not has_organisation_role(viewer):
        return false()
    return jobs.c.tenant_id == _tenant(viewer)


def job_match_list(matches: Any, viewer: Principal, quality: str | None, status: str | None) -> list:
    """What a job-match list shows: matches the viewer may see, of the given tier and status."""
    conditions = [visible_job_matches(matches, viewer)]
    if quality is not None:
        conditions.append(matches.c.quality_tier == bindparam("quality", quality, type_=Text))
    if status is not None:
        conditions.append(matches.c.status == bindparam("status", status, type_=Text))
    return conditions


def job_match_order(matches: Any) -> list:
    """Highest belonging probability first; ties by id (the keyset of the cursors)."""
    return [matches.c.belonging_probability.desc(), matches.c.id]


def own_organisation(organisations: Any, viewer: Principal) -> ColumnElement:
    """The viewer's organisation account's organisation."""
    return organisations.c.tenant_id == _tenant(viewer)
