"""JWT bearer authentication (see docs/api.md) and the principal every request acts as."""

from __future__ import annotations

import enum
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from graphql_app.errors import Unauthenticated
from graphql_app.settings import Settings

ALLOWED_ALGORITHMS = {"HS256", "RS256"}


class Role(enum.StrEnum):
    MEMBER = "MEMBER"
    ORG_USER = "ORG_USER"
    ORG_ADMIN = "ORG_ADMIN"
    PLATFORM_ADMIN = "PLATFORM_ADMIN"


ORGANISATION_ROLES = frozenset({Role.ORG_USER, Role.ORG_ADMIN, Role.PLATFORM_ADMIN})


@dataclass(frozen=True)
class Principal:
    """Who is asking: the verified claims of a token."""

    subject: str
    tenant_id: str
    roles: frozenset[Role]
    member_id: uuid.UUID | None = None
    #: The token's ``exp`` (seconds since the epoch); connections opened with the token end then.
    expires_at: float | None = None

    @property
    def is_platform_admin(self) -> bool:
        return Role.PLATFORM_ADMIN in self.roles

    def has_any_role(self, roles: frozenset[Role] | set[Role]) -> bool:
        return bool(self.roles & roles)


class TokenVerifier:
    """Verifies bearer tokens with the configured algorithm; refuses `none` and unexpected algorithms."""

    def __init__(self, settings: Settings) -> None:
        self.algorithm = settings.jwt_algorithm
        if self.algorithm not in ALLOWED_ALGORITHMS:
            raise ValueError(f"MATCHGRAPH_JWT_ALGORITHM must be one of {sorted(ALLOWED_ALGORITHMS)}")
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self._jwks_client = None
        self._verified: dict[str, tuple[Principal, float]] = {}
        if self.algorithm == "HS256":
            secret = settings.resolved_jwt_secret()
            if not secret:
                raise ValueError("MATCHGRAPH_JWT_SECRET must be set when using an external database.")
            self._key: Any = secret
        elif settings.jwt_jwks_url:
            self._jwks_client = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True)
            self._key = None
        elif settings.jwt_public_key:
            self._key = settings.jwt_public_key
        else:
            raise ValueError("RS256 needs MATCHGRAPH_JWT_PUBLIC_KEY or MATCHGRAPH_JWT_JWKS_URL.")

    #: Verified tokens are remembered (signature checks cost ~0.3 ms, more than a compiled page's Python work)
    #: until their ``exp`` and for at most this long, so a key withdrawn from the JWKS stops working soon too.
    CACHE_SECONDS = 300.0
    CACHE_SIZE = 4096

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; raises UNAUTHENTICATED (malformed, wrong algorithm, bad signature,
        expired, missing claims, unknown role)."""
        cached = self._verified.get(token)
        now = time.time()
        if cached is not None and now < cached[1]:
            return cached[0]
        principal, expires_at = self._verify(token)
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = (principal, min(expires_at, now + self.CACHE_SECONDS))
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("The bearer token is malformed.") from exc
        if header.get("alg") != self.algorithm:
            raise Unauthenticated(f"Tokens must be signed with {self.algorithm}.")
        key = self._jwks_client.get_signing_key_from_jwt(token).key if self._jwks_client else self._key
        options = {"require": ["exp", "sub", "tenant_id"]}
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[self.algorithm],
                issuer=self.issuer,
                audience=self.audience,
                options={**options, "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("The bearer token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"The bearer token is invalid: {exc}.") from exc
        principal = principal_from_claims(claims)
        return principal, principal.expires_at


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """The principal of verified claims, each claim type-checked strictly (anything else is UNAUTHENTICATED)."""
    for claim in ("sub", "tenant_id"):
        if not isinstance(claims.get(claim), str) or not claims[claim].strip():
            raise Unauthenticated(f"The token's `{claim}` claim must be a non-empty string.")
    raw_roles = claims.get("roles", [])
    if not isinstance(raw_roles, list) or not all(isinstance(role, str) for role in raw_roles):
        raise Unauthenticated("The token's `roles` claim must be a list of role names.")
    try:
        roles = frozenset(Role(role) for role in raw_roles)
    except ValueError as exc:
        raise Unauthenticated(f"The token names an unknown role: {exc}.") from exc
    member_id = None
    if claims.get("member_id") is not None:
        if not isinstance(claims["member_id"], str):
            raise Unauthenticated("The token's `member_id` claim must be a UUID string.")
        try:
            member_id = uuid.UUID(claims["member_id"])
        except ValueError as exc:
            raise Unauthenticated("The token's member_id is not a UUID.") from exc
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise Unauthenticated("The token's `exp` claim must be a number of seconds since the epoch.")
    return Principal(
        subject=claims["sub"],
        tenant_id=claims["tenant_id"],
        roles=roles,
        member_id=member_id,
        expires_at=float(exp),
    )


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header value, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("The Authorization header must be `Bearer <token>`.")
    return token.strip()


def mint_token(
    settings: Settings,
    *,
    subject: str,
    tenant_id: str,
    roles: list[str],
    member_id: str | None = None,
    ttl_seconds: int = 12 * 3600,
    private_key: str | None = None,
) -> str:
    """A development token signed with the configured secret (HS256) or a given RS256 private key."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "tenant_id": tenant_id,
        "roles": [Role(r).value for r in roles],
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if member_id:
        claims["member_id"] = member_id
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_algorithm == "RS256":
        if not private_key:
            raise ValueError("Minting an RS256 token needs the private key (--private-key-file).")
        return jwt.encode(claims, private_key, algorithm="RS256")
    secret = settings.resolved_jwt_secret()
    if not secret:
        raise ValueError("Set MATCHGRAPH_JWT_SECRET to mint tokens for an external database.")
    return jwt.encode(claims, secret, algorithm="HS256")
