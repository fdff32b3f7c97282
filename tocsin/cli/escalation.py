"""Acknowledge-or-escalate from the command line: `tocsin ack ESCALATION_ID`, `tocsin escalations`."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, acting_person, console, display_zone, print_json


def _escalation_id(text: str) -> int:
    from tocsin.core.errors import InvalidInput

    raw = text.strip()
    number = raw[2:] if raw.upper().startswith("E-") else raw
    if not number.isdigit():
        raise InvalidInput(f"{raw!r} is not an escalation id (write 7 or E-7)")
    return int(number)


@app.command()
def ack(
    escalation: Annotated[str, typer.Argument(help="Escalation id (7 or E-7), as in the page you got.")],
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Acknowledge a page: the escalation stops paging the next people."""
    from tocsin.core.clocks import iso_utc
    from tocsin.db.engine import session_scope
    from tocsin.messages.escalations import acknowledge

    who = acting_person(actor)
    with session_scope() as session:
        record = acknowledge(session, _escalation_id(escalation), person=who)
        data = {
            "escalation": record.id,
            "incident": f"INC-{record.incident_id}",
            "role": record.role,
            "acked_by": record.acked_by,
            "acked_at": iso_utc(record.acked_at) if record.acked_at else None,
        }
    from tocsin.cli.output import continue_playbooks

    continue_playbooks(record.incident_id)
    if json_output:
        print_json(data)
        return
    console.print(f"Escalation {data['escalation']} ({data['incident']}, {data['role']}) acknowledged by {who}.")


@app.command()
def escalations(
    incident: Annotated[str | None, typer.Argument(help="Only this incident.")] = None,
    json_output: bool = JSON_OPTION,
) -> None:
    """Open escalations: who is paged now and when the next level is paged."""
    from rich.table import Table

    from tocsin.core.clocks import iso_utc, local_display
    from tocsin.db.engine import session_scope
    from tocsin.incidents.service import parse_incident_id
    from tocsin.messages.escalations import open_escalations

    incident_id = parse_incident_id(incident) if incident else None
    with session_scope() as session:
        rows = [
            {
                "escalation": e.id,
                "incident": f"INC-{e.incident_id}",
                "role": e.role,
                "subject": e.subject,
                "level": e.level + 1,
                "levels": len(e.levels),
                "paged": e.levels[e.level],
                "next_at": e.next_at,
            }
            for e in open_escalations(session, incident_id)
        ]
    if json_output:
        print_json([{**r, "next_at": iso_utc(r["next_at"]) if r["next_at"] else None} for r in rows])
        return
    if not rows:
        console.print("No open escalations.")
        return
    zone_name = display_zone()
    table = Table("ID", "Incident", "Role", "Subject", "Level", "Paged now", f"Next level at ({zone_name})")
    for r in rows:
        table.add_row(
            str(r["escalation"]),
            r["incident"],
            r["role"],
            r["subject"],
            f"{r['level']}/{r['levels']}",
            ", ".join(r["paged"]),
            local_display(r["next_at"], zone_name) if r["next_at"] else "-",
        )
    console.print(table)
    console.print("Acknowledge with `tocsin ack ID`.")
