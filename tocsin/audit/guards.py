"""The database's own guard on the timeline: triggers refusing UPDATE and DELETE (and TRUNCATE on PostgreSQL).

`guard_problems` names each guard that is not in force as Tocsin created it: dropped; on PostgreSQL disabled,
set to fire only for replication (ENABLE REPLICA), or in any state but the migrations' own (`O`, or `A` which
fires in every session); altered (another timing, event list, column list, WHEN condition or function); or its
function replaced. On SQLite the trigger's SQL text in sqlite_master must be the one Tocsin wrote.
`restore_guards` recreates them (the same statements as migrations 0001 and 0012), for `tocsin audit
repair-guards`.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

APPEND_ONLY_MESSAGE = "audit events are append-only"
GUARD_FUNCTION = "tocsin_audit_append_only"
FUNCTION_BODY = f"BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END"
SQLITE_GUARDS = {
    "audit_event_no_update": "BEFORE UPDATE",
    "audit_event_no_delete": "BEFORE DELETE",
}
POSTGRES_GUARDS = {
    "audit_event_append_only": "BEFORE UPDATE OR DELETE ON audit_event FOR EACH ROW",
    "audit_event_no_truncate": "BEFORE TRUNCATE ON audit_event FOR EACH STATEMENT",
}
# What pg_get_triggerdef gives back for the statements above (it lists the events in its own order).
POSTGRES_DEFINITIONS = {
    "audit_event_append_only": "CREATE TRIGGER audit_event_append_only BEFORE DELETE OR UPDATE ON audit_event "
    f"FOR EACH ROW EXECUTE FUNCTION {GUARD_FUNCTION}()",
    "audit_event_no_truncate": "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {GUARD_FUNCTION}()",
}
# pg_trigger.tgenabled: O fires in ordinary sessions (what CREATE TRIGGER sets), A in every session.
ENABLED_STATES = {"O", "A"}
STATE_NAMES = {"D": "disabled", "R": "set to fire only for replication (ENABLE REPLICA)"}
NOT_IN_FORCE = "the database no longer refuses it"
SCHEMA_PREFIX = re.compile(rf'(?:"[^"]+"|\w+)\.(?=audit_event\b|{GUARD_FUNCTION}\()')


def _normal(sql: str) -> str:
    return " ".join(sql.split())


def sqlite_statement(name: str) -> str:
    return (
        f"CREATE TRIGGER {name} {SQLITE_GUARDS[name]} ON audit_event "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
    )


def guard_problems(connection: Connection) -> dict[str, str]:
    """Guard (trigger or function) name -> why it is not in force; empty when every guard is as created."""
    if connection.dialect.name == "postgresql":
        return _postgres_problems(connection)
    rows = connection.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")
    )
    present = {name: sql or "" for name, sql in rows}
    problems = {}
    for name, what in SQLITE_GUARDS.items():
        if name not in present:
            problems[name] = f"trigger {name} ({what} on audit_event) was dropped: {NOT_IN_FORCE}"
        elif _normal(present[name]).lower() != _normal(sqlite_statement(name)).lower():
            problems[name] = (
                f"trigger {name} was altered: its SQL is {_normal(present[name])!r}, not the one Tocsin creates"
            )
    return problems


def _postgres_problems(connection: Connection) -> dict[str, str]:
    rows = connection.execute(
        text(
            "SELECT tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid = to_regclass('audit_event') AND NOT tgisinternal"
        )
    ).all()
    found = {name: (str(state), SCHEMA_PREFIX.sub("", definition)) for name, state, definition in rows}
    problems = {}
    for name, what in POSTGRES_GUARDS.items():
        if name not in found:
            problems[name] = f"trigger {name} ({what}) was dropped: {NOT_IN_FORCE}"
            continue
        state, definition = found[name]
        if state not in ENABLED_STATES:
            described = STATE_NAMES.get(state, f"in state {state!r}, not enabled")
            problems[name] = f"trigger {name} ({what}) is {described}: {NOT_IN_FORCE}"
        elif _normal(definition) != POSTGRES_DEFINITIONS[name]:
            problems[name] = f"trigger {name} was altered: it is {_normal(definition)!r}, not the one Tocsin creates"
    function = connection.execute(
        text(
            "SELECT p.prosrc, l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
            f"WHERE p.oid = to_regprocedure('{GUARD_FUNCTION}()')"
        )
    ).first()
    if function is None:
        problems[GUARD_FUNCTION] = f"trigger function {GUARD_FUNCTION}() was dropped: {NOT_IN_FORCE}"
    elif function[1] != "plpgsql" or _normal(function[0]) != FUNCTION_BODY:
        problems[GUARD_FUNCTION] = (
            f"trigger function {GUARD_FUNCTION}() was replaced: it no longer only raises '{APPEND_ONLY_MESSAGE}'"
        )
    return problems


def missing_guards(connection: Connection) -> list[str]:
    """One line per guard that is not in force (see `guard_problems`)."""
    return list(guard_problems(connection).values())


def restore_guards(connection: Connection) -> list[str]:
    """Recreate every guard not in force (dropped, disabled, altered); the names of those restored."""
    problems = guard_problems(connection)
    if connection.dialect.name == "postgresql":
        if GUARD_FUNCTION in problems:
            connection.execute(text(f"DROP FUNCTION IF EXISTS {GUARD_FUNCTION}() CASCADE"))
        connection.execute(
            text(
                f"CREATE OR REPLACE FUNCTION {GUARD_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"{FUNCTION_BODY} $$"
            )
        )
        restored = [GUARD_FUNCTION] if GUARD_FUNCTION in problems else []
        for name, what in POSTGRES_GUARDS.items():
            if name in problems or GUARD_FUNCTION in problems:  # CASCADE dropped the triggers with the function
                connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON audit_event"))
                connection.execute(text(f"CREATE TRIGGER {name} {what} EXECUTE FUNCTION {GUARD_FUNCTION}()"))
                restored.append(name)
        return restored
    for name in SQLITE_GUARDS:
        if name in problems:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
            connection.execute(text(sqlite_statement(name)))
    return [name for name in SQLITE_GUARDS if name in problems]
