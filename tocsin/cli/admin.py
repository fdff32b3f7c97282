"""Housekeeping: `tocsin audit verify`, `tocsin db upgrade|current`, `tocsin config`."""

from __future__ import annotations

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
    incident: Annotated[str, typer.Argument(help="Incident id, or `all`.")], json_output: bool = JSON_OPTION
) -> None:
    """Check that no timeline event was edited, deleted or reordered. Exit 1 if any was."""
    from tocsin.cli.gateway import require_local

    require_local("audit verify")
    from tocsin.audit.timeline import verify_incident
    from tocsin.core.ids import parse_incident_id
    from tocsin.db.engine import session_scope
    from tocsin.incidents.service import list_incidents

    with session_scope() as session:
        ids = sorted(i.id or 0 for i in list_incidents(session)) if incident == "all" else [parse_incident_id(incident)]
        results = {f"INC-{i}": [str(p) for p in verify_incident(session, i)] for i in ids}
    broken = {ref: problems for ref, problems in results.items() if problems}
    if json_output:
        print_json({"ok": not broken, "checked": len(results), "problems": broken})
    else:
        for ref, problems in results.items():
            if problems:
                console.print(f"[red]{ref}: timeline TAMPERED[/]")
                for problem in problems:
                    console.print(f"  {problem}")
            else:
                console.print(f"[green]{ref}: timeline intact[/]")
    if broken:
        raise typer.Exit(1)


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
