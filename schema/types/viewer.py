"""The `Viewer` type: who the token says the caller is (`me`)."""

from __future__ import annotations

import strawberry

from schema.enums import Role


@strawberry.type(description="The authenticated caller.")
class Viewer:
    subject: str = strawberry.field(description="The token's `sub` claim.")
    tenant_id: str = strawberry.field(description="The organisation account (`tenant_id` claim).")
    roles: list[Role] = strawberry.field(description="Roles granted by the token.")
    member_id: strawberry.ID | None = strawberry.field(description="The member this caller is, if any.")
