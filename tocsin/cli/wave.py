"""What a crash left in doubt in a notice wave: `tocsin wave in-doubt INC` and `tocsin wave resolve INC`, on the
local database or, after `tocsin login`, through the server (`/api/incidents/{id}/waves/in-doubt`)."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, console, print_json

wave_app = typer.Typer(help="A notice wave's request left in doubt by a crash, and what to do about it.",
                       no_args_is_help=True)  # fmt: skip
app.add_typer(wave_app, name="wave")


@wave_app.command("in-doubt")
def in_doubt(
    incident: Annotated[str, typer.Argument(help="Incident id (12 or INC-12).")],
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """The rows a rerun held because their request was in flight when a wave died."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.ids import parse_incident_id

    incident_id = parse_incident_id(incident)
    data = open_gateway(actor).in_doubt(incident_id)
    if json_output:
        print_json(data)
        return
    if not data["batches"]:
        console.print(f"{data['incident']}: nothing held in doubt.")
        return
    for batch in data["batches"]:
        console.print(
            f"wave {batch['wave']}, batch {batch['batch']}: {batch['held']:,} held (request posted "
            f"{batch['posted_at']}, never answered); {batch['confirmed_by_events']:,} confirmed by SendGrid events"
        )
    console.print(f"Decide: tocsin wave resolve {data['incident']} --resend|--skip --reason TEXT")


@wave_app.command("resolve")
def resolve(
    incident: Annotated[str, typer.Argument(help="Incident id (12 or INC-12).")],
    resend: Annotated[bool, typer.Option("--resend", help="Send the held rows once more.")] = False,
    skip: Annotated[bool, typer.Option("--skip", help="Do not send them again (marked skipped).")] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept on the timeline).")] = "",
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Decide about the rows held in doubt: --resend (a duplicate for any SendGrid had taken) or --skip."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.errors import InvalidInput
    from tocsin.core.ids import parse_incident_id
    from tocsin.wave.reason import decision_reason

    incident_id = parse_incident_id(incident)
    if resend == skip:
        raise InvalidInput("give exactly one of --resend or --skip", where="tocsin wave resolve")
    given = decision_reason(reason, where="--reason")  # refused here, before a server is asked (client mode)
    data = open_gateway(actor).resolve_in_doubt(incident_id, "resend" if resend else "skip", reason=given)
    if json_output:
        print_json(data)
    elif resend:
        console.print(f"{data['rows']:,} held rows sent again: {data['sent']:,} accepted, {data['failed']:,} failed.")
    else:
        console.print(f"{data['rows']:,} held rows marked skipped.")
    if data["failed"]:
        raise typer.Exit(1)
