"""Token verification (see docs/api.md): HS256 and RS256, required claims, refused algorithms, issuer/audience."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from graphql_app.auth import Role, TokenVerifier, mint_token
from graphql_app.errors import Unauthenticated
from graphql_app.settings import Settings

SECRET = "unit-test-secret-" + "y" * 32


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def hs_settings(**extra) -> Settings:
    return Settings(database_url="postgresql://unused", jwt_secret=SECRET, **extra)


def test_hs256_round_trip_gives_the_principal():
    settings = hs_settings()
    token = mint_token(settings, subject="u1", tenant_id="t1", roles=["ORG_ADMIN", "MEMBER"], member_id=None)
    principal = TokenVerifier(settings).verify(token)
    assert principal.subject == "u1" and principal.tenant_id == "t1"
    assert principal.roles == frozenset({Role.ORG_ADMIN, Role.MEMBER})


def test_rs256_with_a_public_key(rsa_keys):
    private, public = rsa_keys
    settings = Settings(database_url="postgresql://unused", jwt_algorithm="RS256", jwt_public_key=public)
    token = mint_token(settings, subject="u1", tenant_id="t1", roles=["ORG_USER"], private_key=private)
    assert TokenVerifier(settings).verify(token).tenant_id == "t1"
    # An HS256 token signed with the public key as secret (the classic confusion attack) is refused.
    forged = jwt.encode({"sub": "x", "tenant_id": "t1", "exp": time.time() + 60}, "a" * 40, algorithm="HS256")
    with pytest.raises(Unauthenticated, match="RS256"):
        TokenVerifier(settings).verify(forged)


def test_unsigned_tokens_and_missing_claims_are_refused():
    verifier = TokenVerifier(hs_settings())
    unsigned = jwt.encode({"sub": "x", "tenant_id": "t", "exp": time.time() + 60}, None, algorithm="none")
    with pytest.raises(Unauthenticated):
        verifier.verify(unsigned)
    no_exp = jwt.encode({"sub": "x", "tenant_id": "t"}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated, match="exp"):
        verifier.verify(no_exp)
    expired = jwt.encode({"sub": "x", "tenant_id": "t", "exp": time.time() - 5}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(expired)
    bad_role = jwt.encode({"sub": "x", "tenant_id": "t", "roles": ["GOD"], "exp": time.time() + 60}, SECRET)
    with pytest.raises(Unauthenticated, match="role"):
        verifier.verify(bad_role)


def test_issuer_and_audience_are_checked_when_configured():
    settings = hs_settings(jwt_issuer="https://id.example", jwt_audience="matchgraph")
    good = mint_token(settings, subject="u", tenant_id="t", roles=["ORG_USER"])
    assert TokenVerifier(settings).verify(good).subject == "u"
    other = mint_token(
        hs_settings(jwt_issuer="https://evil.example", jwt_audience="matchgraph"),
        subject="u",
        tenant_id="t",
        roles=["ORG_USER"],
    )
    with pytest.raises(Unauthenticated):
        TokenVerifier(settings).verify(other)


def test_unexpected_algorithm_configuration_is_rejected():
    with pytest.raises(ValueError):
        TokenVerifier(hs_settings(jwt_algorithm="none"))


def test_introspection_can_be_switched_off():
    from schema.root import build_schema

    result = build_schema(introspection=False).execute_sync("{ __schema { queryType { name } } }")
    assert result.errors
    assert build_schema().execute_sync("{ __schema { queryType { name } } }").errors is None


def test_a_remembered_token_still_expires():
    verifier = TokenVerifier(hs_settings())
    exp = int(time.time()) + 2
    token = jwt.encode({"sub": "x", "tenant_id": "t", "exp": exp, "roles": ["ORG_USER"]}, SECRET, algorithm="HS256")
    assert verifier.verify(token).tenant_id == "t"
    assert verifier.verify(token).tenant_id == "t"  # from the cache of verified tokens
    time.sleep(max(0.0, exp - time.time()) + 0.05)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(token)


def test_a_tampered_token_is_refused_after_its_original_was_accepted():
    verifier = TokenVerifier(hs_settings())
    token = mint_token(hs_settings(), subject="a", tenant_id="t", roles=["ORG_USER"])
    verifier.verify(token)
    head, _payload, signature = token.split(".")
    forged = jwt.encode({"sub": "a", "tenant_id": "other", "exp": int(time.time()) + 60}, "wrong-" + SECRET)
    with pytest.raises(Unauthenticated):
        verifier.verify(".".join([head, forged.split(".")[1], signature]))
