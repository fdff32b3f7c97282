"""Declaring incidents and moving them through their lifecycle: declare, incidents, show, status,
assign, close."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, console, display_zone, print_json

IF_VERSION = typer.Option(None, "--if-version", help="Refuse the change unless the incident is still at this version.")


@app.command()
def declare(
    title: Annotated[str, typer.Option("--title", help="Short, factual title.")],
    kind: Annotated[str, typer.Option("--kind", help="breach or crisis.")] = "breach",
    severity: Annotated[str, typer.Option("--severity", help="SEV1 (worst) to SEV4.")] = "SEV2",
    aware_at: Annotated[
        str | None,
        typer.Option("--aware-at", help="When the organisation became aware (ISO 8601 with offset). Default: now."),
    ] = None,
    commander: Annotated[
        str | None,
        typer.Option("--commander", help="Incident commander (default: TOCSIN_DEFAULT_COMMANDER or you)."),
    ] = None,
    facts: Annotated[
        Path | None,
        typer.Option("--facts", help="YAML/JSON facts document (entity, facts, events), as for `tocsin obligations`."),
    ] = None,
    locale: Annotated[str | None, typer.Option("--locale", help="Default language for notices.")] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="The entity's zone (default: from facts, else UTC).")
    ] = None,
    playbook: Annotated[str | None, typer.Option("--playbook", help="Launch this playbook at once.")] = None,
    inputs: Annotated[list[str] | None, typer.Option("--input", "-i", help="Playbook input NAME=VALUE.")] = None,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Declare an incident."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.clocks import parse_instant

    gateway = open_gateway(actor)
    document: dict = {}
    where = "facts"
    if facts is not None:
        from tocsin.clock.inputs import read_input

        document, where = read_input(facts)  # as `tocsin obligations` reads it: refusals give file:line
    playbook_inputs = None
    if playbook:
        from tocsin.cli.playbooks import parse_inputs

        playbook_inputs = parse_inputs(inputs, None)
    data = gateway.declare(
        title=title,
        kind=kind,
        severity=severity,
        aware_at=parse_instant(aware_at, field_name="--aware-at") if aware_at else None,
        commander=commander,
        facts=document,
        facts_where=where,
        locale=locale,
        timezone=timezone,
        playbook=playbook,
        inputs=playbook_inputs,
    )
    if json_output:
        print_json(data)
        return
    console.print(f"[bold]{data['ref']}[/] declared: {data['title']} ({data['severity']}, {data['kind']})")
    console.print(f"Commander: {data['commander']}.  Next: `tocsin show {data['id']}`")
    run = data.get("playbook_run")
    if playbook and run:
        console.print(f"Playbook {playbook} (run {run['run']}): {run['urgent']}; then {run['handed_to']}")


@app.command("incidents")
def list_incidents(
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only breach or crisis.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only incidents that are not closed.")] = False,
    json_output: bool = JSON_OPTION,
) -> None:
    """List incidents, newest first."""
    from rich.table import Table

    from tocsin.cli.gateway import open_gateway
    from tocsin.core.clocks import local_display, parse_instant

    rows = open_gateway().incidents(status=status, kind=kind, open_only=open_only)
    if json_output:
        print_json(rows)
        return
    if not rows:
        console.print("No incidents match.")
        return
    zone_name = display_zone()
    table = Table("ID", "Sev", "Kind", "Status", "Title", "Commander", f"Aware ({zone_name})")
    for row in rows:
        table.add_row(
            row["ref"],
            row["severity"],
            row["kind"],
            row["status"],
            row["title"],
            row["commander"] or "",
            local_display(parse_instant(row["aware_at"]), zone_name),
        )
    console.print(table)


@app.command()
def show(
    incident: Annotated[str, typer.Argument(help="Incident id (12 or INC-12).")],
    json_output: bool = JSON_OPTION,
) -> None:
    """An incident's summary, its people and its timeline."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.cli.render import render_incident
    from tocsin.core.ids import parse_incident_id

    data = open_gateway().incident(parse_incident_id(incident))
    if json_output:
        print_json(data)
        return
    render_incident(data, display_zone())
    if data.get("playbook_runs"):
        from tocsin.cli.render import render_runs

        render_runs(data["playbook_runs"])
    if data.get("undelivered_messages"):
        _render_undelivered(data["undelivered_messages"])


def _render_undelivered(messages: list[dict[str, Any]]) -> None:
    """Messages not sent yet: pending, waiting for a retry, or failed (with the provider's error)."""
    from rich.table import Table

    table = Table(
        "Message", "Purpose", "To", "State", "Tries", "Error", title="Undelivered messages", title_justify="left"
    )
    for m in messages:
        state = f"{m['state']} (next {m['next_attempt_at']})" if m["next_attempt_at"] else m["state"]
        table.add_row(m["message_id"], m["purpose"], m["to"], state, str(m["attempts"]), m["error"] or "")
    console.print(table)


@app.command()
def status(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    new_status: Annotated[
        str,
        typer.Argument(metavar="NEW_STATUS", help="investigating, contained, notifying, monitoring or closed."),
    ],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for the timeline.")] = None,
    if_version: int | None = IF_VERSION,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Move an incident to its next status (only legal transitions)."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.ids import parse_incident_id

    gateway = open_gateway(actor)
    data = gateway.change_status(parse_incident_id(incident), new_status, reason=reason, expected_version=if_version)
    _report(data, f"{data['ref']} is now {data['status']}", json_output)


@app.command()
def assign(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    role: Annotated[str, typer.Argument(help="commander, legal, comms, it, dpo or observer.")],
    person: Annotated[str, typer.Argument(help="Person handle (in the directory: `tocsin people add`).")],
    if_version: int | None = IF_VERSION,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Give a person a role on an incident (the commander or an admin; never a role for yourself)."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.ids import parse_incident_id

    gateway = open_gateway(actor)
    data = gateway.assign_role(parse_incident_id(incident), role, person, expected_version=if_version)
    _report(data, f"{person} is {role.strip().lower()} on {data['ref']}", json_output)


@app.command()
def unassign(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    role: Annotated[str, typer.Argument(help="commander, legal, comms, it, dpo or observer.")],
    person: Annotated[str, typer.Argument(help="Person handle.")],
    if_version: int | None = IF_VERSION,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Take a role away from a person on an incident (the commander or an admin; an incident keeps a commander)."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.ids import parse_incident_id

    gateway = open_gateway(actor)
    data = gateway.unassign_role(parse_incident_id(incident), role, person, expected_version=if_version)
    _report(data, f"{person} is no longer {role.strip().lower()} on {data['ref']}", json_output)


@app.command()
def close(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for the timeline.")] = None,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Close an incident (from monitoring, or early as a false alarm)."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.ids import parse_incident_id

    gateway = open_gateway(actor)
    data = gateway.close(parse_incident_id(incident), reason=reason)
    _report(data, f"{data['ref']} is closed", json_output)


def _report(data: dict, message: str, json_output: bool) -> None:
    if json_output:
        print_json(data)
    else:
        console.print(message)
