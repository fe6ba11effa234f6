"""What each target tracks on its own, so that rules do not re-derive it.

A proxy that *tracks* a setting remembers each client's value and re-applies it
when the client moves to another database connection (PgBouncer), or only reuses
connections whose value matches (RDS Proxy for MySQL). Changing a tracked setting
is therefore neither a pin nor a leak.
"""

from __future__ import annotations

#: Parameters PgBouncer tracks per client, lower-cased, with the first version that
#: tracks each. PgBouncer can only track parameters PostgreSQL reports to clients
#: (`ParameterStatus`); `search_path` and `default_transaction_read_only` are tracked
#: from 1.26 when the server reports them. Source: PgBouncer's configuration
#: reference (`track_extra_parameters`) and changelog.
PGBOUNCER_TRACKED: dict[str, tuple[int, ...]] = {
    "client_encoding": (1, 0),
    "datestyle": (1, 0),
    "timezone": (1, 0),
    "standard_conforming_strings": (1, 0),
    "application_name": (1, 0),
    "intervalstyle": (1, 20),
    "search_path": (1, 26),
    "default_transaction_read_only": (1, 26),
}

#: Tracked parameters whose default is the empty string. PgBouncer never re-applies an
#: empty client value (`apply_var` in its `varcache.c` skips it), so a client that did
#: not set its own `application_name` when connecting inherits whatever the previous
#: client of the server connection set.
PGBOUNCER_EMPTY_DEFAULT = frozenset({"application_name"})

#: PostgreSQL `SET` spellings that stand for another parameter.
_PG_ALIASES = {"time zone": "timezone", "names": "client_encoding"}


def pg_parameter(name: str) -> str:
    """The canonical, lower-cased name of a PostgreSQL parameter as written in a `SET`."""
    lowered = name.lower()
    return _PG_ALIASES.get(lowered, lowered)


def pgbouncer_tracks(parameter: str, version: tuple[int, ...]) -> bool:
    """Whether PgBouncer `version` re-applies `parameter` per client."""
    since = PGBOUNCER_TRACKED.get(pg_parameter(parameter))
    return since is not None and version >= since


def pgbouncer_tracked_names(version: tuple[int, ...]) -> list[str]:
    return [name for name, since in PGBOUNCER_TRACKED.items() if version >= since]


#: Variables RDS Proxy for MySQL and MariaDB tracks (session scope only): changing one
#: does not pin; the proxy reuses only connections with the same values. Source: AWS,
#: "Avoiding pinning an RDS Proxy", what RDS Proxy tracks for MySQL and MariaDB.
RDS_MYSQL_TRACKED: frozenset[str] = frozenset(
    {
        "autocommit",
        "auto_increment_increment",
        "character set",
        "character_set_client",
        "character_set_connection",
        "character_set_database",
        "character_set_filesystem",
        "character_set_results",
        "character_set_server",
        "collation_connection",
        "collation_database",
        "collation_server",
        "interactive_timeout",
        "names",
        "net_write_timeout",
        "query_cache_type",
        "session_track_schema",
        "sql_mode",
        "time_zone",
        "transaction_isolation",
        "tx_isolation",
        "transaction_read_only",
        "tx_read_only",
        "wait_timeout",
        # `SET SESSION TRANSACTION ISOLATION LEVEL ... | READ ONLY` sets the two above
        "transaction",
    }
)


def format_version(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)
