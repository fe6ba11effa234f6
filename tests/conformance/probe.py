"""Measure the session state that a piece of SQL leaves on a real connection.

``probe`` opens a fresh connection, runs ``setup``, takes a snapshot of the
session's state, runs the SQL under test as one simple-query message, takes a
second snapshot in the same session and reports which kinds of state differ.

The probe's own queries leave nothing behind: every snapshot runs inside a
transaction (or a savepoint when one is already open) that is rolled back,
statements are never prepared by name, and every catalog object is
schema-qualified so that objects the SQL under test creates cannot shadow them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

STATE_KINDS: frozenset[str] = frozenset(
    {
        "setting",
        "prepared-statement",
        "cursor",
        "cursor-with-hold",
        "temp-object",
        "listen",
        "advisory-lock",
        "sequence-state",
        "open-transaction",
        "role",
        "library",
    }
)

ConnFactory = Callable[[], "psycopg.Connection[Any]"]

_SAVEPOINT = "pinlint_probe_snapshot"
_TRY_SAVEPOINT = "pinlint_probe_try"

_RELKINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "S": "sequence",
    "f": "foreign table",
    "c": "composite type",
    "i": "index",
    "I": "partitioned index",
}

_SETTINGS_SQL = "SELECT name, setting, source FROM pg_catalog.pg_settings"

_TEMP_OBJECTS_SQL = """
SELECT c.relkind::text, c.relname::text
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = pg_catalog.pg_my_temp_schema()
UNION ALL
SELECT 'function', p.oid::pg_catalog.regprocedure::text
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = pg_catalog.pg_my_temp_schema()
UNION ALL
SELECT 'type', t.typname::text
  FROM pg_catalog.pg_type t
 WHERE t.typnamespace = pg_catalog.pg_my_temp_schema()
   AND t.typrelid = 0
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type a WHERE a.typarray = t.oid)
"""

_ADVISORY_SQL = """
SELECT classid::text, objid::text, objsubid::text, mode, granted
  FROM pg_catalog.pg_locks
 WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid()
"""

_SEQUENCES_SQL = """
SELECT c.oid::pg_catalog.int8, c.oid::pg_catalog.regclass::text
  FROM pg_catalog.pg_class c
 WHERE c.relkind = 'S' AND NOT pg_catalog.pg_is_other_temp_schema(c.relnamespace)
"""


@dataclass(frozen=True)
class StateReport:
    """Kinds of session state a statement changed, with evidence."""

    kinds: frozenset[str]
    details: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True)
class _Snapshot:
    settings: dict[str, tuple[str | None, str | None]]
    prepared: dict[str, str]
    cursors: dict[str, tuple[bool, str]]
    temp_objects: frozenset[tuple[str, str]]
    channels: frozenset[str]
    advisory: frozenset[tuple[str, str, str, str, bool]]
    currvals: dict[int, tuple[str, int]]  # sequence oid -> (name, currval)
    lastval: int | None
    current_user: str
    session_user: str


def _rows(conn: psycopg.Connection[Any], sql: str) -> list[tuple[Any, ...]]:
    return conn.execute(sql).fetchall()


def _try_value(conn: psycopg.Connection[Any], sql: str) -> Any:
    """Run a one-value query that may raise, without disturbing the session.

    Called only inside the snapshot transaction, so a savepoint contains the
    failure.
    """
    conn.execute(f"SAVEPOINT {_TRY_SAVEPOINT}")
    try:
        row = conn.execute(sql).fetchone()
    except psycopg.Error:
        conn.execute(f"ROLLBACK TO SAVEPOINT {_TRY_SAVEPOINT}")
        conn.execute(f"RELEASE SAVEPOINT {_TRY_SAVEPOINT}")
        return None
    conn.execute(f"RELEASE SAVEPOINT {_TRY_SAVEPOINT}")
    return row[0] if row else None


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _snapshot(conn: psycopg.Connection[Any], watched: tuple[str, ...]) -> _Snapshot:
    status = conn.info.transaction_status
    if status == TransactionStatus.IDLE:
        begin, end = ["BEGIN"], ["ROLLBACK"]
    elif status == TransactionStatus.INTRANS:
        begin = [f"SAVEPOINT {_SAVEPOINT}"]
        end = [f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}", f"RELEASE SAVEPOINT {_SAVEPOINT}"]
    else:
        raise RuntimeError(f"cannot take a snapshot in transaction status {status.name}")

    for statement in begin:
        conn.execute(statement)
    try:
        # First, while the session's own settings (timeouts, role) still
        # apply: the settings as this role sees them, and who we are.
        current_user, session_user = _rows(conn, "SELECT current_user, session_user")[0]
        visible = {name: (setting, source) for name, setting, source in _rows(conn, _SETTINGS_SQL)}
        # Then, for this snapshot only, undo anything that could hide catalog
        # rows or cancel the probe's queries; the rollback below restores it.
        conn.execute(
            "SET LOCAL SESSION AUTHORIZATION DEFAULT; SET LOCAL ROLE NONE; "
            "SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0; "
            "SET LOCAL idle_in_transaction_session_timeout = 0"
        )
        # Settings hidden from the role above (superuser-only ones) come from
        # here; everything the role could see keeps its first reading.
        settings: dict[str, tuple[str | None, str | None]] = {
            name: (setting, source) for name, setting, source in _rows(conn, _SETTINGS_SQL)
        }
        settings.update(visible)
        # Custom placeholder settings (app.tenant) are not listed in
        # pg_settings, so read the watched names one by one.
        for name in watched:
            if name not in settings:
                value = _try_value(
                    conn, f"SELECT pg_catalog.current_setting({_quote_literal(name)}, true)"
                )
                settings[name] = (value, None)
        prepared = dict(
            _rows(
                conn, "SELECT name, statement FROM pg_catalog.pg_prepared_statements WHERE from_sql"
            )
        )
        cursors = {
            name: (holdable, statement)
            for name, holdable, statement in _rows(
                conn, "SELECT name, is_holdable, statement FROM pg_catalog.pg_cursors"
            )
        }
        temp_objects = frozenset((kind, name) for kind, name in _rows(conn, _TEMP_OBJECTS_SQL))
        channels = frozenset(
            row[0] for row in _rows(conn, "SELECT pg_catalog.pg_listening_channels()")
        )
        advisory = frozenset(
            (str(c), str(o), str(s), str(m), bool(g))
            for c, o, s, m, g in _rows(conn, _ADVISORY_SQL)
        )
        currvals: dict[int, tuple[str, int]] = {}
        for oid, sequence in _rows(conn, _SEQUENCES_SQL):
            # By OID: the name may not resolve under the session's search_path.
            value = _try_value(
                conn, f"SELECT pg_catalog.currval({int(oid)}::pg_catalog.oid::pg_catalog.regclass)"
            )
            if value is not None:
                currvals[oid] = (sequence, value)
        lastval = _try_value(conn, "SELECT pg_catalog.lastval()")
    finally:
        for statement in end:
            conn.execute(statement)
    return _Snapshot(
        settings=settings,
        prepared=prepared,
        cursors=cursors,
        temp_objects=temp_objects,
        channels=channels,
        advisory=advisory,
        currvals=currvals,
        lastval=lastval,
        current_user=current_user,
        session_user=session_user,
    )


_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)+")


def custom_setting_candidates(*texts: str) -> tuple[str, ...]:
    """Dotted names in ``texts`` that could be custom settings (``app.tenant``).

    PostgreSQL does not list placeholder settings in pg_settings, so the
    probe watches every dotted name that the SQL mentions. Names that are not
    settings simply read as unset before and after.
    """
    names = {match.lower() for text in texts for match in _DOTTED_NAME.findall(text)}
    return tuple(sorted(names))


def _show(value: object) -> str:
    return "(unset)" if value is None else repr(value)


def _diff_settings(before: _Snapshot, after: _Snapshot) -> Iterable[str]:
    for name in sorted(after.settings):
        new_value, new_source = after.settings[name]
        old_value, old_source = before.settings.get(name, (None, None))
        if old_value is None and new_source == "default":
            # A library loaded meanwhile defined it at its default, as plpgsql
            # does for plpgsql.* the first time a DO block runs: not set by SQL.
            continue
        if old_value != new_value:
            yield f"setting {name}: {_show(old_value)} -> {_show(new_value)}"
        elif old_source is not None and new_source is not None and old_source != new_source:
            yield (
                f"setting {name}: {_show(new_value)} unchanged, source {old_source} -> {new_source}"
            )


#: Libraries the server loads by itself on first use (any PL/pgSQL body or DO block
#: loads plpgsql); their settings appearing is not something the client's SQL asked for.
_SERVER_LOADED = frozenset({"plpgsql"})


def _loaded_libraries(before: _Snapshot, after: _Snapshot) -> Iterable[str]:
    """Prefixes of settings that appeared at their defaults: a `LOAD`ed library."""
    prefixes = {
        name.split(".", 1)[0]
        for name, (_, source) in after.settings.items()
        if "." in name and name not in before.settings and source == "default"
    }
    for prefix in sorted(prefixes - _SERVER_LOADED):
        yield f"library {prefix} loaded ({prefix}.* settings appeared)"


def _diff(before: _Snapshot, after: _Snapshot) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = [("setting", d) for d in _diff_settings(before, after)]
    found += [("library", d) for d in _loaded_libraries(before, after)]

    for name in sorted(after.prepared.keys() - before.prepared.keys()):
        found.append(("prepared-statement", f"prepared statement {name}: {after.prepared[name]}"))
    for name in sorted(before.prepared.keys() - after.prepared.keys()):
        found.append(("prepared-statement", f"prepared statement {name} removed"))

    for name in sorted(after.cursors.keys() | before.cursors.keys()):
        old, new = before.cursors.get(name), after.cursors.get(name)
        if old == new:
            continue
        entry = new if new is not None else old
        assert entry is not None
        kind = "cursor-with-hold" if entry[0] else "cursor"
        label = "cursor WITH HOLD" if entry[0] else "cursor"
        if new is None:
            found.append((kind, f"{label} {name} closed"))
        else:
            found.append((kind, f"{label} {name}: {new[1]}"))

    for kind, name in sorted(after.temp_objects - before.temp_objects):
        found.append(("temp-object", f"temp {_RELKINDS.get(kind, kind)} {name}"))
    for kind, name in sorted(before.temp_objects - after.temp_objects):
        found.append(("temp-object", f"temp {_RELKINDS.get(kind, kind)} {name} dropped"))

    for channel in sorted(after.channels - before.channels):
        found.append(("listen", f"listening on channel {channel}"))
    for channel in sorted(before.channels - after.channels):
        found.append(("listen", f"no longer listening on channel {channel}"))

    for classid, objid, objsubid, mode, granted in sorted(after.advisory - before.advisory):
        state = "" if granted else " (waiting)"
        found.append(
            ("advisory-lock", f"advisory lock {classid}/{objid}/{objsubid} {mode} held{state}")
        )
    for classid, objid, objsubid, mode, _ in sorted(before.advisory - after.advisory):
        found.append(
            ("advisory-lock", f"advisory lock {classid}/{objid}/{objsubid} {mode} released")
        )

    for oid in sorted(after.currvals.keys() | before.currvals.keys()):
        old_entry, new_entry = before.currvals.get(oid), after.currvals.get(oid)
        entry = new_entry or old_entry
        assert entry is not None
        sequence = entry[0]
        old_val = old_entry[1] if old_entry else None
        new_val = new_entry[1] if new_entry else None
        if old_val != new_val:
            found.append(
                ("sequence-state", f"currval({sequence}): {_show(old_val)} -> {_show(new_val)}")
            )
    if before.lastval != after.lastval:
        found.append(
            ("sequence-state", f"lastval(): {_show(before.lastval)} -> {_show(after.lastval)}")
        )

    if before.current_user != after.current_user:
        found.append(("role", f"current_user: {before.current_user} -> {after.current_user}"))
    if before.session_user != after.session_user:
        found.append(("role", f"session_user: {before.session_user} -> {after.session_user}"))
    return found


def probe(
    conn_factory: ConnFactory,
    sql: str,
    *,
    setup: str = "",
    in_transaction: bool = False,
    watch_settings: Iterable[str] = (),
) -> StateReport:
    """Run ``sql`` on a fresh connection and report the session state it leaves.

    ``setup`` runs first, in autocommit mode, and its effects are part of the
    baseline. Then the state is compared before and after ``sql``, in the
    same session.

    With ``in_transaction=True`` the probe opens a transaction before ``sql``
    and inspects the state inside it, so transaction-scoped state (``SET
    LOCAL``, cursors without hold, xact advisory locks) is seen. It then
    commits and inspects again, so state that only takes effect at commit
    (``LISTEN`` in a transaction) is reported too, with details prefixed
    "after COMMIT: ". "open-transaction" is reported only when ``sql`` itself
    leaves a transaction open in autocommit mode.

    Custom settings (``app.tenant``) are not listed by pg_settings; every
    dotted name in ``setup`` and ``sql`` is watched, plus ``watch_settings``.

    A failing ``setup`` raises; a failing ``sql`` gives a report with
    ``error`` set and no kinds.
    """
    watched = tuple(
        sorted(set(custom_setting_candidates(setup, sql)) | {n.lower() for n in watch_settings})
    )
    conn = conn_factory()
    try:
        conn.prepare_threshold = None
        conn.autocommit = True
        if setup.strip():
            conn.execute(setup)
        if in_transaction:
            conn.execute("BEGIN")
        before = _snapshot(conn, watched)
        try:
            # No parameters and text results: psycopg sends this as one
            # simple-query message, so several statements are allowed.
            conn.execute(sql)
        except psycopg.Error as exc:
            return StateReport(kinds=frozenset(), details=(), error=str(exc))

        found: list[tuple[str, str]] = []
        status = conn.info.transaction_status
        if status == TransactionStatus.INERROR:
            # Nothing can be queried; only the open transaction is certain.
            found.append(("open-transaction", "transaction left open in failed state (INERROR)"))
        else:
            if not in_transaction and status == TransactionStatus.INTRANS:
                found.append(("open-transaction", "transaction left open (INTRANS)"))
            found.extend(_diff(before, _snapshot(conn, watched)))
            if in_transaction and status == TransactionStatus.INTRANS:
                seen = {detail for _, detail in found}
                try:
                    conn.execute("COMMIT")
                except psycopg.Error:
                    # Rolled back (e.g. a deferred constraint): nothing to add.
                    pass
                else:
                    for kind, detail in _diff(before, _snapshot(conn, watched)):
                        if detail not in seen:
                            found.append((kind, f"after COMMIT: {detail}"))
        return StateReport(
            kinds=frozenset(kind for kind, _ in found),
            details=tuple(detail for _, detail in found),
            error=None,
        )
    finally:
        conn.close()
