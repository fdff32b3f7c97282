"""`tocsin people`: the directory of people who can hold roles."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, console, print_json

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
    admin: Annotated[
        bool | None, typer.Option("--admin/--no-admin", help="Administers Tocsin (launches and closes anywhere).")
    ] = None,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Add a person, or update their details (an admin; on a fresh install, the local operator)."""
    from tocsin.cli.gateway import open_gateway

    data = open_gateway(actor).add_person(
        handle, name=name, email=email, slack_user=slack_user, locale=locale, timezone=timezone, admin=admin
    )
    if json_output:
        print_json(data)
    else:
        console.print(f"{data['handle']} saved")


@people_app.command("list")
def list_people(json_output: bool = JSON_OPTION) -> None:
    """Everyone in the directory."""
    from rich.table import Table

    from tocsin.cli.gateway import open_gateway

    rows = open_gateway().people()
    if json_output:
        print_json(rows)
        return
    table = Table("Handle", "Name", "Email", "Slack", "Locale", "Zone", "Console")
    for row in rows:
        login = "password set" if row.get("has_password") else "no login"
        console_access = ("admin, " if row.get("is_admin") else "") + login
        cells = (row.get(k) or "" for k in ("handle", "name", "email", "slack_user_id", "locale", "timezone"))
        table.add_row(*cells, console_access)
    console.print(table)


@people_app.command("passwd")
def passwd(
    handle: Annotated[str, typer.Argument(help="The person who will log in to the web console.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (scripts).")
    ] = False,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the password: no more console log-in.")] = False,
    actor: str | None = AS_OPTION,
) -> None:
    """Set a person's web-console password (asked twice; only its argon2 hash is stored): your own, or anyone's
    as an admin."""
    import sys

    from tocsin.cli.gateway import open_gateway
    from tocsin.core.errors import InvalidInput

    gateway = open_gateway(actor)
    if remove:
        person = gateway.set_password(handle, None)["handle"]
        console.print(f"{person} can no longer log in to the web console")
        return
    target = gateway.check_person(handle)  # a typo is named before anyone types a password
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        from tocsin.people.passwords import MIN_LENGTH

        password = typer.prompt(f"New password for {target} (at least {MIN_LENGTH} characters)", hide_input=True)
        if typer.prompt("Once more", hide_input=True) != password:
            raise InvalidInput("the two passwords differ; nothing changed")
    person = gateway.set_password(target, password)["handle"]  # refuses a weak password: nothing written
    console.print(f"Password set for {person}: they can log in to the web console (`tocsin serve`, /login)")


@people_app.command("admin")
def admin(
    handle: Annotated[str, typer.Argument(help="Person handle.")],
    grant: Annotated[bool, typer.Option("--grant/--revoke", help="Make an admin, or stop being one.")] = True,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Make a person an admin (may launch playbooks on and close any incident), or revoke it."""
    from tocsin.cli.gateway import open_gateway

    data = open_gateway(actor).grant_admin(handle, admin=grant)
    if json_output:
        print_json(data)
    else:
        console.print(f"{data['handle']} is {'now' if grant else 'no longer'} an admin")
