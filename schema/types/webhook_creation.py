"""The `WebhookCreation` type: a new webhook and its secret, the one time the secret is shown."""

from __future__ import annotations

import strawberry

from schema.types.webhook import Webhook


@strawberry.type(description="A webhook just registered, with its signing secret (shown only this once).")
class WebhookCreation:
    webhook: Webhook = strawberry.field(description="The webhook.")
    secret: str = strawberry.field(
        description="The key of the HMAC-SHA256 signature of each delivery (`X-Matchgraph-Signature`). Store it now: "
        "it is never shown again."
    )
