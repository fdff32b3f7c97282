"""The incident's notification clock: `tocsin clock`, `submit`, `event`, `facts`, and the scheduler."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import (
    AS_OPTION,
    JSON_OPTION,
    acting_person,
    console,
    continue_playbooks,
    display_zone,
    print_json,
)

scheduler_app = typer.Typer(help="Deadline reminders and overdue escalations (APScheduler).", no_args_is_help=True)
app.add_typer(scheduler_app, name="scheduler")

AT_OPTION = typer.Option(None, "--at", help="When it happened (ISO 8601 with offset). Default: now.")


@app.command("clock")
def show_clock(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    withdrawn: Annotated[bool, typer.Option("--withdrawn", help="Also list obligations no longer owed.")] = False,
    json_output: bool = JSON_OPTION,
) -> None:
    """The live countdown of every obligation of an incident."""
    from tocsin.cli.clock_view import render_clock
    from tocsin.core.clocks import iso_utc, utcnow
    from tocsin.db.engine import session_scope
    from tocsin.incidents.service import get_incident, parse_incident_id
    from tocsin.obligations.countdown import clock_rows
    from tocsin.obligations.service import obligations_of

    incident_id = parse_incident_id(incident)
    now = utcnow()
    with session_scope() as session:
        record = get_incident(session, incident_id)
        rows = clock_rows(obligations_of(session, incident_id, include_withdrawn=withdrawn), now)
        ref, title = record.ref, record.title
    if json_output:
        print_json({"incident": ref, "now": iso_utc(now), "obligations": rows})
        return
    render_clock(ref, title, rows, display_zone(), now)


@app.command()
def submit(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    rule: Annotated[str, typer.Argument(help="The rule id, e.g. eu.gdpr.art33.supervisory_authority.")],
    at: str | None = AT_OPTION,
    note: Annotated[str | None, typer.Option("--note", help="Reference number, channel used ...")] = None,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Record that a notification was submitted (starts any report chained to it)."""
    _record(incident, f"submitted:{rule}", at, note, actor, json_output, must_be_owed=rule)


@app.command()
def event(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    name: Annotated[str, typer.Argument(help="A clock event, e.g. materiality_determined or consumers_notified.")],
    at: str | None = AT_OPTION,
    note: Annotated[str | None, typer.Option("--note")] = None,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Record a clock event on an incident and recompute its obligations."""
    _record(incident, name, at, note, actor, json_output)


@app.command()
def facts(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    file: Annotated[Path, typer.Argument(help="The new facts document (YAML/JSON), `-` for stdin.")],
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Replace an incident's facts document and recompute its obligations."""
    from tocsin.core.documents import load_mapping
    from tocsin.db.engine import session_scope
    from tocsin.incidents.facts import validate_facts
    from tocsin.incidents.service import get_incident, parse_incident_id
    from tocsin.obligations.service import set_facts

    document, name = load_mapping(file)
    validate_facts(document, where=name)
    with session_scope() as session:
        record = get_incident(session, parse_incident_id(incident))
        changes = set_facts(session, record, document, actor=acting_person(actor))
        incident_id = record.id or 0
    continue_playbooks(incident_id)
    _report_changes(changes, json_output)


def _record(
    incident: str,
    name: str,
    at: str | None,
    note: str | None,
    actor: str | None,
    json_output: bool,
    must_be_owed: str | None = None,
) -> None:
    from tocsin.core.clocks import parse_instant, utcnow
    from tocsin.db.engine import session_scope
    from tocsin.incidents.service import get_incident, parse_incident_id
    from tocsin.obligations.service import record_event, record_submission

    when = parse_instant(at, field_name="--at") if at else utcnow()
    with session_scope() as session:
        record = get_incident(session, parse_incident_id(incident))
        who = acting_person(actor)
        if must_be_owed:
            changes = record_submission(session, record, must_be_owed, when, actor=who, note=note)
        else:
            changes = record_event(session, record, name, when, actor=who, note=note)
        incident_id = record.id or 0
    continue_playbooks(incident_id)
    _report_changes(changes, json_output, f"{name} recorded at {when.isoformat()}")


def _report_changes(changes, json_output: bool, headline: str = "facts updated") -> None:  # type: ignore[no-untyped-def]
    data = {"added": changes.added, "changed": changes.changed, "withdrawn": changes.withdrawn}
    if json_output:
        print_json(data)
        return
    console.print(headline)
    for label, items in data.items():
        for item in items:
            console.print(f"  {label}: {item}")


@scheduler_app.command("run")
def run_scheduler(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit (for cron).")] = False,
) -> None:
    """Run the reminder scheduler in the foreground (one per database)."""
    import logging

    from tocsin.obligations import scheduler as scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if once:
        console.print(f"{scheduler.run_once()} reminder(s) sent")
        return
    scheduler.run_forever()
