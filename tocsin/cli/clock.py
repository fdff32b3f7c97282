"""The incident's notification clock: `tocsin clock`, `submit`, `event`, `facts`, and the scheduler."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, console, display_zone, print_json

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
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.clocks import parse_instant
    from tocsin.core.ids import parse_incident_id

    data = open_gateway().clock(parse_incident_id(incident), withdrawn=withdrawn)
    title = data.pop("title", "")
    if json_output:
        print_json(data)
        return
    render_clock(data["incident"], title, data["obligations"], display_zone(), parse_instant(data["now"]))


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
    from tocsin.cli.gateway import open_gateway
    from tocsin.clock.inputs import read_input
    from tocsin.core.ids import parse_incident_id

    gateway = open_gateway(actor)
    incident_id = parse_incident_id(incident)
    document, name = read_input(file)  # as `tocsin obligations` reads it: refusals give file:line
    changes = gateway.replace_facts(incident_id, document, where=name)
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
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.clocks import parse_instant
    from tocsin.core.ids import parse_incident_id

    gateway = open_gateway(actor)
    incident_id = parse_incident_id(incident)
    when = parse_instant(at, field_name="--at") if at else None
    if must_be_owed:
        data = gateway.record_submission(incident_id, must_be_owed, at=when, note=note)
    else:
        data = gateway.record_event(incident_id, name, at=when, note=note)
    _report_changes(data, json_output, f"{data.get('event', name)} recorded at {data['at']}")


def _report_changes(changes: dict, json_output: bool, headline: str = "facts updated") -> None:
    data = {key: changes.get(key, []) for key in ("added", "changed", "withdrawn")}
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

    from tocsin.cli.gateway import require_local

    require_local("scheduler run")

    from tocsin.obligations import scheduler as scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if once:
        console.print(f"{scheduler.run_once()} reminder(s) sent")
        return
    scheduler.run_forever()
