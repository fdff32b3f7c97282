"""Acknowledge-or-escalate from the command line: `tocsin ack ESCALATION_ID`, `tocsin escalations`."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, console, display_zone, print_json


@app.command()
def ack(
    escalation: Annotated[str, typer.Argument(help="Escalation id (7 or E-7), as in the page you got.")],
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Acknowledge a page: the escalation stops paging the next people."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.ids import parse_escalation_id

    gateway = open_gateway(actor)
    data = gateway.acknowledge(parse_escalation_id(escalation))
    if json_output:
        print_json(data)
        return
    console.print(
        f"Escalation {data['escalation']} ({data['incident']}, {data['role']}) acknowledged by {data['acked_by']}."
    )


@app.command()
def escalations(
    incident: Annotated[str | None, typer.Argument(help="Only this incident.")] = None,
    json_output: bool = JSON_OPTION,
) -> None:
    """Open escalations: who is paged now and when the next level is paged."""
    from rich.table import Table

    from tocsin.cli.gateway import open_gateway
    from tocsin.cli.render import local_or_dash
    from tocsin.core.ids import parse_incident_id

    rows = open_gateway().escalations(parse_incident_id(incident) if incident else None)
    if json_output:
        print_json(rows)
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
            local_or_dash(r["next_at"], zone_name, dash="-"),
        )
    console.print(table)
    console.print("Acknowledge with `tocsin ack ID`.")
