"""The `me` root field."""

from __future__ import annotations

from strawberry.types import Info

from schema.enums import Role
from schema.types.viewer import Viewer


async def me(info: Info) -> Viewer:
    viewer = info.context.viewer
    return Viewer(
        subject=viewer.subject,
        tenant_id=viewer.tenant_id,
        roles=sorted((Role(r.value) for r in viewer.roles), key=lambda r: r.value),
        member_id=str(viewer.member_id) if viewer.member_id else None,
    )
