"""Declaring incidents and moving them through their lifecycle: declare, incidents, show, status,
assign, close."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, acting_person, console, display_zone, print_json

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
    from tocsin.core.clocks import parse_instant, utcnow
    from tocsin.core.config import get_settings
    from tocsin.core.documents import load_mapping
    from tocsin.db.engine import session_scope
    from tocsin.incidents.facts import entity_timezone, validate_facts
    from tocsin.incidents.service import Declaration, parse_choice, roles_of
    from tocsin.incidents.service import declare as declare_incident
    from tocsin.incidents.views import incident_dict
    from tocsin.models import IncidentKind, Severity
    from tocsin.people.directory import check_handle

    settings = get_settings()
    who = acting_person(actor)
    document: dict = {}
    if facts is not None:
        document, name = load_mapping(facts)
        validate_facts(document, where=name)
    declaration = Declaration(
        kind=parse_choice(IncidentKind, kind.strip().lower(), "kind"),
        title=title,
        severity=parse_choice(Severity, severity.strip().upper(), "severity"),
        aware_at=parse_instant(aware_at, field_name="--aware-at") if aware_at else utcnow(),
        commander=check_handle(commander or settings.default_commander or who),
        facts=document,
        locale=locale or settings.default_locale,
        timezone=timezone or entity_timezone(document) or "UTC",
    )
    if playbook:  # refuse a bad playbook or input before anything is written
        from tocsin.cli.playbooks import parse_inputs
        from tocsin.playbooks.loader import get_playbook

        get_playbook(playbook)
        playbook_inputs = parse_inputs(inputs, None)
    with session_scope() as session:
        incident = declare_incident(session, declaration, actor=who)
        data = incident_dict(incident, roles_of(session, incident.id or 0))
    if playbook:
        from tocsin.cli.playbooks import launch_and_start

        data["playbook_run"] = launch_and_start(data["id"], playbook, playbook_inputs, who, as_declarer=True)
    if json_output:
        print_json(data)
        return
    console.print(f"[bold]{data['ref']}[/] declared: {data['title']} ({data['severity']}, {data['kind']})")
    console.print(f"Commander: {data['commander']}.  Next: `tocsin show {data['id']}`")
    if playbook:
        run = data["playbook_run"]
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

    from tocsin.core.clocks import local_display, parse_instant
    from tocsin.db.engine import session_scope
    from tocsin.incidents.lifecycle import parse_status
    from tocsin.incidents.service import list_incidents as query
    from tocsin.incidents.service import parse_choice, roles_by_incident
    from tocsin.incidents.views import incident_dict
    from tocsin.models import IncidentKind

    status_filter = parse_status(status) if status else None
    kind_filter = parse_choice(IncidentKind, kind.strip().lower(), "kind") if kind else None
    with session_scope() as session:
        found = query(session, status=status_filter, kind=kind_filter, open_only=open_only)
        roles = roles_by_incident(session, [i.id or 0 for i in found])
        rows = [incident_dict(i, roles[i.id or 0]) for i in found]
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
    from tocsin.audit.timeline import timeline
    from tocsin.cli.render import render_incident
    from tocsin.db.engine import session_scope
    from tocsin.flows.progress import runs_of
    from tocsin.incidents.service import get_incident, parse_incident_id, roles_of
    from tocsin.incidents.views import event_dict, incident_dict
    from tocsin.messages.queue import undelivered_messages

    incident_id = parse_incident_id(incident)
    with session_scope() as session:
        record = get_incident(session, incident_id)
        data = incident_dict(record, roles_of(session, incident_id))
        data["timeline"] = [event_dict(e) for e in timeline(session, incident_id)]
        data["playbook_runs"] = runs_of(session, incident_id)
        data["undelivered_messages"] = undelivered_messages(session, incident_id)
    if json_output:
        print_json(data)
        return
    render_incident(data, display_zone())
    if data["playbook_runs"]:
        from tocsin.cli.render import render_runs

        render_runs(data["playbook_runs"])
    if data["undelivered_messages"]:
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
    from tocsin.db.engine import session_scope
    from tocsin.incidents.service import change_status, parse_incident_id
    from tocsin.incidents.views import incident_dict

    who = acting_person(actor)
    with session_scope() as session:
        record = change_status(
            session,
            parse_incident_id(incident),
            new_status,
            actor=who,
            reason=reason,
            expected_version=if_version,
        )
        data = incident_dict(record)
    _report(data, f"{data['ref']} is now {data['status']}", json_output)


@app.command()
def assign(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    role: Annotated[str, typer.Argument(help="commander, legal, comms, it, dpo or observer.")],
    person: Annotated[str, typer.Argument(help="Person handle.")],
    if_version: int | None = IF_VERSION,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Give a person a role on an incident."""
    from tocsin.db.engine import session_scope
    from tocsin.incidents.service import assign as assign_role
    from tocsin.incidents.service import get_incident, parse_incident_id, roles_of
    from tocsin.incidents.views import incident_dict

    who = acting_person(actor)
    incident_id = parse_incident_id(incident)
    with session_scope() as session:
        assign_role(session, incident_id, role, person, actor=who, expected_version=if_version)
        data = incident_dict(get_incident(session, incident_id), roles_of(session, incident_id))
    from tocsin.cli.output import continue_playbooks

    continue_playbooks(incident_id)
    _report(data, f"{person} is {role.lower()} on {data['ref']}", json_output)


@app.command()
def close(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for the timeline.")] = None,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Close an incident (from monitoring, or early as a false alarm)."""
    from tocsin.db.engine import session_scope
    from tocsin.incidents.service import close as close_incident
    from tocsin.incidents.service import parse_incident_id
    from tocsin.incidents.views import incident_dict

    with session_scope() as session:
        data = incident_dict(
            close_incident(session, parse_incident_id(incident), actor=acting_person(actor), reason=reason)
        )
    _report(data, f"{data['ref']} is closed", json_output)


def _report(data: dict, message: str, json_output: bool) -> None:
    if json_output:
        print_json(data)
    else:
        console.print(message)
