"""Tenant scoping, in one place: every read of tenant data goes through :func:`scoped`.

Companies, grant matches and computations carry ``tenant_id``. A principal sees the rows of its own tenant;
``PLATFORM_ADMIN`` sees every tenant's. Grants are a platform-wide catalogue and are not scoped.
"""

from __future__ import annotations

from sqlalchemy import Select, Table

from graphql_app.auth import Principal


def scoped(query: Select, table: Table, principal: Principal) -> Select:
    """``query`` restricted to the rows of ``table`` the principal may see."""
    if principal.is_platform_admin:
        return query
    return query.where(table.c.tenant_id == principal.tenant_id)
