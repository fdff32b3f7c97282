"""`tocsin people`: the directory of people who can hold roles."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import JSON_OPTION, console, print_json

people_app = typer.Typer(help="The people directory (handles, email, Slack user, locale).", no_args_is_help=True)
app.add_typer(people_app, name="people")


@people_app.command("add")
def add(
    handle: Annotated[str, typer.Argument(help="Short handle, e.g. alice.")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    slack_user: Annotated[str | None, typer.Option("--slack-user", help="Slack user id, e.g. U0123ABC.")] = None,
    locale: Annotated[str | None, typer.Option("--locale")] = None,
    timezone: Annotated[str | None, typer.Option("--timezone")] = None,
    json_output: bool = JSON_OPTION,
) -> None:
    """Add a person, or update their details."""
    from tocsin.clocks import zone
    from tocsin.db.engine import session_scope
    from tocsin.people import upsert_person
    from tocsin.serialize import person_dict

    if timezone:
        zone(timezone)
    with session_scope() as session:
        data = person_dict(
            upsert_person(
                session,
                handle,
                name=name,
                email=email,
                slack_user_id=slack_user,
                locale=locale,
                timezone=timezone,
            )
        )
    if json_output:
        print_json(data)
    else:
        console.print(f"{data['handle']} saved")


@people_app.command("list")
def list_people(json_output: bool = JSON_OPTION) -> None:
    """Everyone in the directory."""
    from rich.table import Table

    from tocsin.db.engine import session_scope
    from tocsin.people import list_people as query
    from tocsin.serialize import person_dict

    with session_scope() as session:
        rows = [person_dict(p) for p in query(session)]
    if json_output:
        print_json(rows)
        return
    table = Table("Handle", "Name", "Email", "Slack", "Locale", "Zone")
    for row in rows:
        table.add_row(*(row[k] or "" for k in ("handle", "name", "email", "slack_user_id", "locale", "timezone")))
    console.print(table)
