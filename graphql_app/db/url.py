"""Database URLs in libpq form, mapped to asyncpg's connect arguments.

Managed Postgres services hand out URLs such as
``postgresql://u:p@host/db?sslmode=verify-full&sslrootcert=ca.pem&options=-c%20search_path%3Dapp``. asyncpg does
not take libpq's query parameters as keyword arguments (SQLAlchemy passes them through as such), so
:func:`parse_database_url` takes them out of the URL and maps them once, for every connection path: the
SQLAlchemy engine, the compiled plans' pool, the LISTEN connection and the queue worker.

Settings in the URL (``application_name``, ``options=-c …``) win over the ones Matchgraph sets itself.
"""

from __future__ import annotations

import shlex
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

#: Query parameters left in the URL (asyncpg and SQLAlchemy both read them there).
_KEPT = ("host", "port")
#: Query parameters that become keyword arguments of asyncpg.connect under another name, or the same one.
_RENAMED = {"user": "user", "password": "password", "dbname": "database", "passfile": "passfile"}
_SSL_FILES = ("sslrootcert", "sslcert", "sslkey", "sslpassword")
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_TARGET_SESSION_ATTRS = ("any", "primary", "standby", "prefer-standby", "read-write", "read-only")
SUPPORTED_PARAMETERS = (
    *_KEPT,
    *_RENAMED,
    "sslmode",
    *_SSL_FILES,
    "sslnegotiation",
    "application_name",
    "options",
    "connect_timeout",
    "target_session_attrs",
)
_SCHEMES = ("postgresql+asyncpg://", "postgresql://", "postgres://", "postgresql+psycopg://", "postgresql+psycopg2://")


class DatabaseUrlError(ValueError):
    """The database URL cannot be used as written; the message says which part and why."""


@dataclass(frozen=True)
class DatabaseTarget:
    """Where and how to connect: one parsed database URL."""

    #: ``postgresql+asyncpg://…`` without the mapped query parameters (for SQLAlchemy).
    sqlalchemy_url: str
    #: ``postgresql://…`` without the mapped query parameters (for asyncpg.connect / create_pool).
    dsn: str
    #: asyncpg.connect keyword arguments: ssl, timeout, direct_tls, target_session_attrs, user, password, database.
    connect_args: dict[str, Any] = field(default_factory=dict)
    #: Session settings from ``application_name`` and ``options=-c name=value``.
    server_settings: dict[str, str] = field(default_factory=dict)

    def connect_kwargs(self, server_settings: dict[str, str] | None = None) -> dict[str, Any]:
        """Keyword arguments for asyncpg.connect/create_pool: ``server_settings`` overridden by the URL's."""
        return {**self.connect_args, "server_settings": {**(server_settings or {}), **self.server_settings}}


def parse_database_url(url: str) -> DatabaseTarget:
    """Split a libpq-style URL into a bare URL plus asyncpg connect arguments (raises :class:`DatabaseUrlError`)."""
    url = url.strip()
    for scheme in _SCHEMES:
        if url.startswith(scheme):
            rest = url[len(scheme) :]
            break
    else:
        shown = url.split("://", 1)[0] if "://" in url else url[:20]
        raise DatabaseUrlError(f"the database URL must start with postgresql:// (got {shown!r}…)")
    base, _, query = rest.partition("?")
    params = _query_params(query)

    unknown = sorted(set(params) - set(SUPPORTED_PARAMETERS))
    if unknown:
        supported = ", ".join(SUPPORTED_PARAMETERS)
        raise DatabaseUrlError(f"unsupported database URL parameter(s): {', '.join(unknown)} (supported: {supported})")

    connect_args: dict[str, Any] = {}
    for name, arg in _RENAMED.items():
        if name in params:
            connect_args[arg] = params[name]
    ssl_arg = _ssl_argument(params)
    if ssl_arg is not None:
        connect_args["ssl"] = ssl_arg
    if "sslnegotiation" in params:
        negotiation = params["sslnegotiation"]
        if negotiation not in ("postgres", "direct"):
            raise DatabaseUrlError(f"sslnegotiation must be postgres or direct (got {negotiation!r})")
        if negotiation == "direct":
            if not isinstance(ssl_arg, ssl.SSLContext):
                raise DatabaseUrlError("sslnegotiation=direct needs sslmode=require, verify-ca or verify-full")
            connect_args["direct_tls"] = True
    if "connect_timeout" in params:
        connect_args["timeout"] = _connect_timeout(params["connect_timeout"])
        if connect_args["timeout"] is None:
            del connect_args["timeout"]
    if "target_session_attrs" in params:
        attrs = params["target_session_attrs"]
        if attrs not in _TARGET_SESSION_ATTRS:
            raise DatabaseUrlError(f"target_session_attrs must be one of {', '.join(_TARGET_SESSION_ATTRS)}")
        connect_args["target_session_attrs"] = attrs

    server_settings = _options(params["options"]) if "options" in params else {}
    if "application_name" in params:
        server_settings["application_name"] = params["application_name"]

    kept = "&".join(f"{k}={quote(params[k], safe='/')}" for k in _KEPT if k in params)
    bare = base + (f"?{kept}" if kept else "")
    return DatabaseTarget(
        sqlalchemy_url="postgresql+asyncpg://" + bare,
        dsn="postgresql://" + bare,
        connect_args=connect_args,
        server_settings=server_settings,
    )


def _query_params(query: str) -> dict[str, str]:
    """libpq's URI query: ``name=value`` pairs joined by ``&``, percent-decoded (``+`` stays a plus)."""
    params: dict[str, str] = {}
    for pair in filter(None, query.split("&")):
        name, sep, value = pair.partition("=")
        if not sep:
            raise DatabaseUrlError(f"database URL parameter {unquote(name)!r} has no value (write name=value)")
        name = unquote(name)
        if name == "database":
            name = "dbname"
        if name in params:
            raise DatabaseUrlError(f"database URL parameter {name!r} is given twice")
        params[name] = unquote(value)
    return params


def _connect_timeout(raw: str) -> float | None:
    """libpq's connect_timeout: whole seconds, 0 or less means wait forever (None), below 2 means 2."""
    try:
        seconds = int(raw)
    except ValueError:
        raise DatabaseUrlError(f"connect_timeout must be a whole number of seconds (got {raw!r})") from None
    if seconds <= 0:
        return None
    return float(max(seconds, 2))


def _options(raw: str) -> dict[str, str]:
    """libpq's ``options``: command-line switches for the server; ``-c name=value`` and ``--name=value`` only."""
    try:
        words = shlex.split(raw)
    except ValueError as exc:
        raise DatabaseUrlError(f"options {raw!r} cannot be parsed: {exc}") from None
    settings: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-c":
            if i + 1 == len(words):
                raise DatabaseUrlError(f"options {raw!r}: -c needs name=value after it")
            assignment = words[i + 1]
            i += 2
        elif word.startswith("-c") or word.startswith("--"):
            assignment, i = word[2:], i + 1
        else:
            raise DatabaseUrlError(f"options {raw!r}: only -c name=value settings are supported (found {word!r})")
        name, sep, value = assignment.partition("=")
        if not sep or not name:
            raise DatabaseUrlError(f"options {raw!r}: {assignment!r} is not name=value")
        settings[name.replace("-", "_")] = value
    return settings


def _ssl_argument(params: dict[str, str]) -> ssl.SSLContext | str | bool | None:
    """asyncpg's ``ssl`` argument for libpq's sslmode and certificate files (None: asyncpg's default, prefer)."""
    mode = params.get("sslmode")
    if mode is not None and mode not in _SSL_MODES:
        raise DatabaseUrlError(f"sslmode must be one of {', '.join(_SSL_MODES)} (got {mode!r})")
    files = {name: params[name] for name in _SSL_FILES if name in params}
    if not files:
        if mode is None:
            return None
        if mode == "disable":
            return False
        if mode in ("allow", "prefer"):
            return mode  # asyncpg negotiates: TLS if the server offers it (prefer) or demands it (allow)
    elif mode in (None, "disable", "allow", "prefer"):
        raise DatabaseUrlError(
            f"{', '.join(sorted(files))} need sslmode=require, verify-ca or verify-full (got sslmode={mode or 'unset'})"
        )
    return _ssl_context(mode, params)


def _ssl_context(mode: str, params: dict[str, str]) -> ssl.SSLContext:
    """A client TLS context with libpq's meaning of ``mode``: require encrypts (and checks the CA only when
    sslrootcert is given), verify-ca checks the CA, verify-full also checks the host name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    rootcert = params.get("sslrootcert")
    if rootcert is None and mode in ("verify-ca", "verify-full"):
        default = Path.home() / ".postgresql" / "root.crt"
        if not default.is_file():
            raise DatabaseUrlError(
                f"sslmode={mode} needs the server's CA certificate: add sslrootcert=/path/to/ca.pem "
                "(or sslrootcert=system for the system's trusted CAs)"
            )
        rootcert = str(default)
    if rootcert is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        if rootcert == "system":
            context.load_default_certs()
        else:
            _load(lambda: context.load_verify_locations(cafile=rootcert), "sslrootcert", rootcert)
        context.verify_mode = ssl.CERT_REQUIRED
        # libpq: sslrootcert=system implies verify-full.
        context.check_hostname = mode == "verify-full" or rootcert == "system"
    cert, key = params.get("sslcert"), params.get("sslkey")
    if key and not cert:
        raise DatabaseUrlError("sslkey is given without sslcert (the client certificate it belongs to)")
    if cert:
        password = params.get("sslpassword")
        _load(lambda: context.load_cert_chain(cert, keyfile=key, password=password), "sslcert/sslkey", cert)
    return context


def _load(load, what: str, path: str) -> None:
    try:
        load()
    except FileNotFoundError:
        raise DatabaseUrlError(f"{what}: no such file {path!r}") from None
    except (OSError, ssl.SSLError) as exc:
        raise DatabaseUrlError(f"{what}: cannot load {path!r}: {exc}") from None
