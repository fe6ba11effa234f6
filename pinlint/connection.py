"""What a driver or framework call configures, read from a `CallSite` (no libcst).

Shared by the PIN7xx rules: libpq connection strings and URLs, SQLAlchemy URLs and
``connect_args``, asyncpg DSNs (whose unknown query parameters become startup
parameters), the parameters in a startup ``options`` string, and the `Fix` that adds
a setting where that is safe and local.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from pinlint.model import HOLE, CallSite, Edit, Fix, Value, ValueKind

#: The startup parameters RDS Proxy for PostgreSQL accepts besides `user` and
#: `database` (lower-cased): AWS, "Connecting to a database through RDS Proxy",
#: considerations for PostgreSQL. Anything else, `options` included, fails the
#: connection attempt.
RDS_STARTUP_PARAMETERS = frozenset(
    {
        "application_name",
        "client_encoding",
        "datestyle",
        "timezone",
        "extra_float_digits",
        "search_path",
    }
)

#: asyncpg DSN query parameters that asyncpg reads itself; every other one is sent
#: as a startup parameter (asyncpg `connect_utils._parse_connect_dsn_and_args`).
ASYNCPG_DSN_PARAMETERS = frozenset(
    {
        "port",
        "host",
        "dbname",
        "database",
        "user",
        "password",
        "passfile",
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "sslnegotiation",
        "sslcrl",
        "sslpassword",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "target_session_attrs",
        "krbsrvname",
        "gsslib",
        "service",
    }
)

_CONNINFO_PAIR = re.compile(
    r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^'\\]|\\.)*'|(?:[^\s'\\]|\\.)*)"
)
_URL = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://")
_OPTION = re.compile(r"(?:^|\s)(?:-c\s*|--)([A-Za-z_][A-Za-z0-9_.]*)\s*=")


@dataclass(frozen=True, slots=True)
class Url:
    """A database URL: ``backend+driver://.../db?query``."""

    backend: str  # postgresql, mysql, ... (lower-cased; `postgres` reads as postgresql)
    driver: str | None  # psycopg, asyncpg, pymysql, ... (None: the backend's default)
    query: dict[str, str]


def parse_url(text: str) -> Url | None:
    """A URL's backend, driver and query parameters (the last value of each), or None
    when `text` is not a URL."""
    match = _URL.match(text)
    if match is None:
        return None
    scheme = match.group(1).lower()
    backend, _, driver = scheme.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    try:
        query = urlsplit(text.strip()).query
    except ValueError:
        query = text.partition("?")[2]
    params = {k: v for k, v in parse_qsl(query, keep_blank_values=True)}
    return Url(backend, driver or None, params)


def parse_conninfo(text: str) -> dict[str, str] | None:
    """A libpq ``key=value`` connection string as a dict, or None when `text` is not
    one (a URL, or something else)."""
    if _URL.match(text) or "=" not in text:
        return None
    out: dict[str, str] = {}
    at = 0
    while at < len(text.rstrip()):
        match = _CONNINFO_PAIR.match(text, at)
        if match is None or match.end() == at:
            return out or None
        key, raw = match.group(1), match.group(2)
        if raw.startswith("'") and raw.endswith("'") and len(raw) >= 2:
            raw = raw[1:-1]
        out[key] = re.sub(r"\\(.)", r"\1", raw)
        at = match.end()
    return out


def dsn_parameters(text: str) -> dict[str, str]:
    """The parameters of a DSN: a conninfo string's pairs, or a URL's query."""
    url = parse_url(text)
    if url is not None:
        return url.query
    return parse_conninfo(text) or {}


def option_parameters(options: str) -> list[str]:
    """The parameter names set by a startup ``options`` string (``-c name=value``,
    ``-cname=value`` or ``--name=value``), in order."""
    return [m.group(1) for m in _OPTION.finditer(unquote(options))]


def sqlalchemy_url(call: CallSite) -> Url | None:
    """The URL a SQLAlchemy `create_engine` call is given, when it is a literal."""
    value = call.argument(0, "url")
    text = value.text if value is not None else None
    return parse_url(text) if text is not None else None


def sqlalchemy_driver(call: CallSite) -> tuple[str, str] | None:
    """(backend, DBAPI driver) of a SQLAlchemy engine; the default driver of each
    backend is filled in (``postgresql://`` is psycopg2)."""
    url = sqlalchemy_url(call)
    if url is None:
        return None
    defaults = {"postgresql": "psycopg2", "mysql": "mysqldb", "mariadb": "mysqldb"}
    driver = url.driver or defaults.get(url.backend, "")
    if driver == "psycopg_async":
        driver = "psycopg"
    return url.backend, driver


def literal(value: Value | None) -> bool:
    """Whether `value` was written as a literal (so its content is known)."""
    return value is not None and value.kind is ValueKind.LITERAL


def show(value: Value | None, default: str = "...") -> str:
    """A literal as Python would print it, for messages."""
    if value is None or value.kind is not ValueKind.LITERAL:
        return default
    if isinstance(value.literal, str):
        return repr(value.literal.replace(HOLE, "{...}"))
    return repr(value.literal)


def entry_dict(call: CallSite) -> Value | None:
    """The dict display of a Django `DATABASES` entry."""
    if call.callee == "django.DATABASES" and len(call.args) > 1:
        return call.args[1]
    return None


def add_settings(
    call: CallSite, settings: Sequence[tuple[str, str]], inside: str | None = None
) -> Fix | None:
    """The fix that adds `settings` ((key, Python source) pairs), or None when that
    is not safe and local.

    With `inside` None they become keywords of the call (entries of the dict, for a
    Django `DATABASES` entry); with `inside` (``connect_args``, ``kwargs``,
    ``OPTIONS``) entries of the dict given under that name, which is added when
    absent. Safe means: every key is known to be absent (no ``**unknown``), and a
    dict to extend is a display written at the call, not one reached through a
    module-level name that other code may share.
    """
    entry = entry_dict(call)
    description = _describe(settings, inside, entry is not None)
    if inside is None:
        if entry is not None:
            return _into_dict(entry, settings, description)
        if any(call.has_keyword(key) is not False for key, _ in settings):
            return None
        edits = tuple(Edit("add-keyword", call.span, key, value) for key, value in settings)
        return Fix(description, edits)
    holder = entry.get(inside) if entry is not None else call.keyword(inside)
    if holder is not None:
        return _into_dict(holder, settings, description)
    present = entry.has(inside) if entry is not None else call.has_keyword(inside)
    if present is not False:
        return None
    source = "{" + ", ".join(f"{_quote(key)}: {value}" for key, value in settings) + "}"
    if entry is not None:
        return _into_dict(entry, [(inside, source)], description)
    return Fix(description, (Edit("add-keyword", call.span, inside, source),))


def _into_dict(target: Value, settings: Sequence[tuple[str, str]], description: str) -> Fix | None:
    if target.kind is not ValueKind.DICT or target.shared or target.span is None:
        return None
    if any(target.has(key) is not False for key, _ in settings):
        return None
    edits = tuple(Edit("add-entry", target.span, key, value) for key, value in settings)
    return Fix(description, edits)


def _describe(settings: Sequence[tuple[str, str]], inside: str | None, entry: bool) -> str:
    if inside is None and not entry:
        return "add " + ", ".join(f"`{key}={value}`" for key, value in settings)
    items = ", ".join(f"`{_quote(key)}: {value}`" for key, value in settings)
    return f"add {items} to `{inside}`" if inside else f"add {items} to the database entry"


def _quote(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
