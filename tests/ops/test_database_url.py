"""libpq-style database URLs (managed Postgres): the mapping to asyncpg's arguments, and real connections."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import text

from graphql_app.db.engine import Database
from graphql_app.db.setup import DatabaseSetupError, resolve_database_url
from graphql_app.db.url import DatabaseUrlError, parse_database_url
from graphql_app.jobs.events import ComputationEventHub
from graphql_app.settings import Settings
from tests.processes import process_env, run_matchgraph


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A self-signed CA and a client certificate + key it signed (PEM files)."""
    folder = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject: str, key, issuer: str, issuer_key, ca: bool) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256())
        )

    ca_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    files = {
        "ca": (certificate("test-ca", ca_key, "test-ca", ca_key, True), None),
        "client": (certificate("mg-client", client_key, "test-ca", ca_key, False), client_key),
    }
    paths: dict[str, Path] = {}
    for name, (cert, key) in files.items():
        paths[name] = folder / f"{name}.crt"
        paths[name].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        if key is not None:
            paths[f"{name}_key"] = folder / f"{name}.key"
            paths[f"{name}_key"].write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
    return paths


def test_bare_url_passes_through_unchanged() -> None:
    target = parse_database_url("postgresql://u:p%40ss@db.example.com:6543/app")
    assert target.sqlalchemy_url == "postgresql+asyncpg://u:p%40ss@db.example.com:6543/app"
    assert target.dsn == "postgresql://u:p%40ss@db.example.com:6543/app"
    assert target.connect_args == {}
    assert target.server_settings == {}
    assert target.connect_kwargs({"application_name": "matchgraph"}) == {
        "server_settings": {"application_name": "matchgraph"}
    }


@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://", "postgresql+asyncpg://", "postgresql+psycopg://"])
def test_scheme_forms(scheme: str) -> None:
    target = parse_database_url(f"{scheme}h/db")
    assert target.sqlalchemy_url == "postgresql+asyncpg://h/db"
    assert target.dsn == "postgresql://h/db"


def test_managed_url_maps_every_parameter() -> None:
    target = parse_database_url(
        "postgresql://u:p@db.example.com/app?sslmode=require&application_name=mg-api"
        "&options=-c%20search_path%3Dtenant_a%2Cpublic%20-c%20statement_timeout%3D5s&connect_timeout=7"
        "&target_session_attrs=read-write"
    )
    assert target.dsn == "postgresql://u:p@db.example.com/app"
    context = target.connect_args["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname  # require: encrypt, no CA check
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert target.connect_args["timeout"] == 7.0
    assert target.connect_args["target_session_attrs"] == "read-write"
    assert target.server_settings == {
        "search_path": "tenant_a,public",
        "statement_timeout": "5s",
        "application_name": "mg-api",
    }
    # The URL's settings win over Matchgraph's own; the others stay.
    kwargs = target.connect_kwargs({"application_name": "matchgraph", "extra_float_digits": "1"})
    assert kwargs["server_settings"] == {
        "application_name": "mg-api",
        "extra_float_digits": "1",
        "search_path": "tenant_a,public",
        "statement_timeout": "5s",
    }


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("disable", False), ("allow", "allow"), ("prefer", "prefer")],
)
def test_negotiated_ssl_modes_use_asyncpgs_forms(mode: str, expected: object) -> None:
    assert parse_database_url(f"postgresql://h/db?sslmode={mode}").connect_args["ssl"] == expected


def test_no_sslmode_leaves_asyncpgs_default() -> None:
    assert "ssl" not in parse_database_url("postgresql://h/db").connect_args


def test_verify_modes_check_the_ca(pki) -> None:
    ca = pki["ca"]
    verify_ca = parse_database_url(f"postgresql://h/db?sslmode=verify-ca&sslrootcert={ca}").connect_args["ssl"]
    assert verify_ca.verify_mode == ssl.CERT_REQUIRED and not verify_ca.check_hostname
    assert any(c["subject"] == ((("commonName", "test-ca"),),) for c in verify_ca.get_ca_certs())
    full = parse_database_url(f"postgresql://h/db?sslmode=verify-full&sslrootcert={ca}").connect_args["ssl"]
    assert full.verify_mode == ssl.CERT_REQUIRED and full.check_hostname
    # libpq: require with a root certificate checks the CA like verify-ca.
    require = parse_database_url(f"postgresql://h/db?sslmode=require&sslrootcert={ca}").connect_args["ssl"]
    assert require.verify_mode == ssl.CERT_REQUIRED and not require.check_hostname
    system = parse_database_url("postgresql://h/db?sslmode=verify-full&sslrootcert=system").connect_args["ssl"]
    assert system.verify_mode == ssl.CERT_REQUIRED and system.check_hostname


def test_client_certificate(pki) -> None:
    target = parse_database_url(
        f"postgresql://h/db?sslmode=verify-full&sslrootcert={pki['ca']}&sslcert={pki['client']}"
        f"&sslkey={pki['client_key']}"
    )
    assert isinstance(target.connect_args["ssl"], ssl.SSLContext)


def test_unix_socket_host_and_query_user_are_kept() -> None:
    target = parse_database_url("postgresql:///app?host=/run/postgresql&port=5433&user=svc&dbname=other")
    assert target.dsn == "postgresql:///app?host=/run/postgresql&port=5433"
    assert target.connect_args == {"user": "svc", "database": "other"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("mysql://h/db", "must start with postgresql://"),
        ("postgresql://h/db?sslmode=sometimes", "sslmode must be one of"),
        ("postgresql://h/db?sslmode", "has no value"),
        ("postgresql://h/db?keepalives=1", "unsupported database URL parameter(s): keepalives"),
        ("postgresql://h/db?connect_timeout=soon", "connect_timeout must be a whole number"),
        ("postgresql://h/db?options=-c", "-c needs name=value"),
        ("postgresql://h/db?options=-c%20statement_timeout", "is not name=value"),
        ("postgresql://h/db?options=--verbose%20-x", "is not name=value"),
        ("postgresql://h/db?options=-x", "only -c name=value"),
        ("postgresql://h/db?options=-c%20a%3D%27x", "cannot be parsed"),
        ("postgresql://h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem", "no such file"),
        ("postgresql://h/db?sslmode=prefer&sslrootcert=/x.pem", "need sslmode=require"),
        ("postgresql://h/db?sslrootcert=/x.pem", "sslmode=unset"),
        ("postgresql://h/db?sslmode=require&sslkey=/x.key", "sslkey is given without sslcert"),
        ("postgresql://h/db?sslmode=prefer&sslnegotiation=direct", "sslnegotiation=direct needs"),
        ("postgresql://h/db?target_session_attrs=leader", "target_session_attrs must be one of"),
        ("postgresql://h/db?sslmode=require&sslmode=disable", "given twice"),
    ],
)
def test_bad_urls_say_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(DatabaseUrlError) as info:
        parse_database_url(raw)
    assert message in str(info.value)


def test_verify_full_without_a_root_certificate(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(DatabaseUrlError, match="add sslrootcert="):
        parse_database_url("postgresql://h/db?sslmode=verify-full")


def test_corrupt_certificate_file(tmp_path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(DatabaseUrlError, match="cannot load"):
        parse_database_url(f"postgresql://h/db?sslmode=verify-ca&sslrootcert={bad}")


async def test_bad_url_is_a_setup_error(tmp_path) -> None:
    with pytest.raises(DatabaseSetupError, match="MATCHGRAPH_DATABASE_URL: sslmode must be one of"):
        await resolve_database_url(Settings(database_url="postgresql://h/db?sslmode=maybe", data_dir=tmp_path))


MANAGED_QUERY = "sslmode=disable&application_name=mg-test&options=-c%20statement_timeout%3D1234&connect_timeout=5"


async def test_every_connection_path_honours_the_url(pg_socket_dir: str, database_name: str) -> None:
    """SQLAlchemy engine, compiled plans' pool, raw connections (worker) and the LISTEN connection."""
    url = f"postgresql://postgres@/{database_name}?host={pg_socket_dir}&{MANAGED_QUERY}"
    db = Database(url, pool_size=2, statement_timeout=15)
    try:
        async with db.reader() as conn:
            row = (
                await conn.execute(
                    text("SELECT current_setting('statement_timeout'), current_setting('application_name')")
                )
            ).one()
        assert tuple(row) == ("1234ms", "mg-test")
        assert await db.fetch_value("SELECT current_setting('statement_timeout')") == "1234ms"
        assert await db.fetch_value("SELECT current_setting('application_name')") == "mg-test"
        assert await db.fetch_value("SELECT current_setting('extra_float_digits')") == "1"  # Matchgraph's own stays
        raw = await db.connect("matchgraph-worker")
        try:
            assert await raw.fetchval("SHOW statement_timeout") == "1234ms"
            assert await raw.fetchval("SELECT current_setting('application_name')") == "mg-test"
        finally:
            await raw.close()
        hub = ComputationEventHub(url)
        await hub.start(wait=10)
        try:
            assert hub.connected
            async with db.reader() as conn:
                names = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mg-test' AND datname = :d"
                        ),
                        {"d": database_name},
                    )
                ).scalar()
            assert names >= 3  # engine, plans pool, listener
        finally:
            await hub.stop()
    finally:
        await db.dispose()


def test_cli_migrate_with_managed_parameters_and_with_a_bad_url(pg_socket_dir: str, database_name: str) -> None:
    url = f"postgresql://postgres@/{database_name}?host={pg_socket_dir}&{MANAGED_QUERY}"
    result = run_matchgraph("migrate", env=process_env(MATCHGRAPH_DATABASE_URL=url))
    assert result.returncode == 0, result.stderr
    bad = run_matchgraph("migrate", env=process_env(MATCHGRAPH_DATABASE_URL=url + "&sslmode=sometimes"))
    assert bad.returncode == 1
    assert "given twice" in bad.stderr and "Traceback" not in bad.stderr
