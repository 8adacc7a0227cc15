"""Permission classes: who may call a field. Which rows a caller sees is `graphql_app.access`."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from graphql_app.auth import ORGANISATION_ROLES, Role
from graphql_app.errors import Forbidden


class IsAuthenticated(BasePermission):
    """A valid bearer token is required (UNAUTHENTICATED otherwise)."""

    message = "Authentication required."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.viewer  # noqa: B018 - raises UNAUTHENTICATED with the precise reason
        return True


class _HasAnyRole(BasePermission):
    roles: frozenset[Role] = frozenset()
    what = ""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if not info.context.viewer.has_any_role(self.roles):
            raise Forbidden(f"Only {self.what} may do this.")
        return True


class HasOrganisationRole(_HasAnyRole):
    """ORG_USER, ORG_ADMIN or PLATFORM_ADMIN: company data of the viewer's tenant."""

    roles = ORGANISATION_ROLES
    what = "organisation users (ORG_USER, ORG_ADMIN) or platform admins"


class IsPlatformAdmin(_HasAnyRole):
    """PLATFORM_ADMIN only (e.g. editing the grant catalogue)."""

    roles = frozenset({Role.PLATFORM_ADMIN})
    what = "platform admins"


class IsOrganisationAdmin(_HasAnyRole):
    """ORG_ADMIN or PLATFORM_ADMIN: the organisation's profile and jobs."""

    roles = frozenset({Role.ORG_ADMIN, Role.PLATFORM_ADMIN})
    what = "organisation admins (ORG_ADMIN) or platform admins"
