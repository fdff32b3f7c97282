"""Housekeeping: `tocsin audit verify`, `tocsin db upgrade|current`, `tocsin config`."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import JSON_OPTION, console, print_json

audit_app = typer.Typer(help="The tamper-evident audit timeline.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")


@audit_app.command("verify")
def verify(
    incident: Annotated[str, typer.Argument(help="Incident id, or `all`.")],
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="Verify against this checkpoint log (e.g. a copy kept elsewhere); exit 2 if it has no line for "
            "this database.",
        ),
    ] = None,
    drill: Annotated[
        Path | None,
        typer.Option(
            "--drill",
            help="Verify a drill: its folder's database, with its folder's audit key and checkpoint log.",
        ),
    ] = None,
    json_output: bool = JSON_OPTION,
) -> None:
    """Check that no timeline event was edited, deleted or reordered (keyed chain, legacy boundary, database
    guards, newest signed checkpoint). Exit 1 if anything was. Never creates an audit key."""
    from tocsin.cli.gateway import require_local

    require_local("audit verify")
    from tocsin.audit.verify import verify_timelines
    from tocsin.core.config import get_settings
    from tocsin.core.ids import parse_incident_id
    from tocsin.db.engine import session_scope
    from tocsin.flows.drill import drill_settings, own_drill_folder

    ids = None if incident == "all" else [parse_incident_id(incident)]
    settings = get_settings()
    if drill is None:  # TOCSIN_DATABASE_URL naming one of this home's drills: verified as `--drill` would
        drill = own_drill_folder(settings.resolved_database_url, settings.home)
        if drill is not None and not json_output:
            console.print(f"a drill of this home: verified with its own audit key and checkpoint log ({drill})")
    scope: AbstractContextManager[None] = nullcontext() if drill is None else drill_settings(drill)
    with scope, session_scope() as session:
        result = verify_timelines(session, get_settings(), ids, checkpoint_path=checkpoint)
    if json_output:
        print_json(result.as_dict())
    else:
        for problem in result.database:
            console.print(f"[red]database: {problem}[/]")
        for warning in result.warnings:
            console.print(f"[yellow]{warning}[/]")
        for ref, problems in result.problems.items():
            if problems:
                console.print(f"[red]{ref}: timeline TAMPERED[/]")
                for problem in problems:
                    console.print(f"  {problem}")
            else:
                console.print(f"[green]{ref}: timeline intact[/]")
        for note in result.notes:
            console.print(f"  [dim]{note}[/]")
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint(
    to: Annotated[
        Path | None, typer.Option("--to", help="Append to this file instead of TOCSIN_AUDIT_CHECKPOINT_FILE.")
    ] = None,
    json_output: bool = JSON_OPTION,
) -> None:
    """Append a signed checkpoint (every incident's chain head, counts) to the checkpoint log outside the database."""
    from tocsin.cli.gateway import require_local

    require_local("audit checkpoint")
    from tocsin.audit.checkpoint import write_checkpoint
    from tocsin.core.config import get_settings
    from tocsin.db.engine import session_scope

    with session_scope() as session:
        path, record = write_checkpoint(session, get_settings(), to)
    if json_output:
        print_json({"file": str(path), **record})
    else:
        counts = record["counts"]
        console.print(
            f"checkpoint {record['at']} appended to {path}: {counts['incidents']} incident(s), "
            f"{counts['events']} event(s), head {record['head'][:16]}"
        )


@audit_app.command("repair-guards")
def repair_guards(json_output: bool = JSON_OPTION) -> None:
    """Recreate the triggers that make the database refuse to change the timeline, if any were dropped, disabled
    or altered."""
    from tocsin.cli.gateway import require_local

    require_local("audit repair-guards")
    from tocsin.audit.checkpoint import record_repair
    from tocsin.audit.guards import restore_guards
    from tocsin.core.config import get_settings
    from tocsin.db.engine import current_engine

    with current_engine().begin() as connection:
        restored = restore_guards(connection)
    path = record_repair(get_settings(), restored) if restored else None
    if json_output:
        print_json({"restored": restored, "recorded_in": None if path is None else str(path)})
    elif path is None:
        console.print("every guard is in place")
    else:
        console.print(f"recreated {', '.join(restored)} (recorded in {path}); run `tocsin audit verify all`")


@db_app.command("upgrade")
def upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the configured database to the newest schema (or REVISION)."""
    from tocsin.cli.gateway import require_local

    require_local("db upgrade")
    from tocsin.core.config import get_settings, mask_url
    from tocsin.db.engine import engine_for
    from tocsin.db.migrate import current_revision
    from tocsin.db.migrate import upgrade as run_upgrade

    url = get_settings().resolved_database_url
    engine = engine_for(url)
    run_upgrade(engine, revision)
    console.print(f"{mask_url(url)} is at revision {current_revision(engine)}")


@db_app.command("current")
def current(json_output: bool = JSON_OPTION) -> None:
    """The schema revision of the configured database, and the newest one."""
    from tocsin.cli.gateway import require_local

    require_local("db current")
    from tocsin.core.config import get_settings, mask_url
    from tocsin.db.engine import engine_for
    from tocsin.db.migrate import current_revision, head_revision

    url = get_settings().resolved_database_url
    data = {"database": mask_url(url), "current": current_revision(engine_for(url)), "head": head_revision()}
    if json_output:
        print_json(data)
    else:
        console.print(f"{data['database']}: at {data['current']}, newest {data['head']}")


@app.command("config")
def show_config(json_output: bool = JSON_OPTION) -> None:
    """The settings in force (secrets masked) and where they come from."""
    from rich.table import Table

    from tocsin.core.config import get_settings

    data = get_settings().masked()
    if json_output:
        print_json(data)
        return
    table = Table("Setting", "Value", title="Tocsin configuration", title_justify="left")
    for key, value in data.items():
        table.add_row(key, "" if value is None else str(value))
    console.print(table)


@app.command("policy")
def show_policy(json_output: bool = JSON_OPTION) -> None:
    """Who may take each action (the role policy every door applies), as the README's table."""
    from tocsin.policy import POLICY, allowed_columns, table_markdown

    if json_output:
        print_json(
            [
                {
                    "action": action.value,
                    "who": rule.who(),
                    "may": [column for column, allowed in allowed_columns(rule).items() if allowed],
                    "conditions": [c.value for c in rule.conditions],
                }
                for action, rule in POLICY.items()
            ]
        )
        return
    print(table_markdown())
