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
    admin: Annotated[
        bool | None, typer.Option("--admin/--no-admin", help="Administers Tocsin (launches and closes anywhere).")
    ] = None,
    json_output: bool = JSON_OPTION,
) -> None:
    """Add a person, or update their details."""
    from tocsin.core.clocks import zone
    from tocsin.db.engine import session_scope
    from tocsin.incidents.views import person_dict
    from tocsin.people.directory import upsert_person

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
        if admin is not None:
            from tocsin.people.passwords import set_admin

            data = person_dict(set_admin(session, handle, admin))
    if json_output:
        print_json(data)
    else:
        console.print(f"{data['handle']} saved")


@people_app.command("list")
def list_people(json_output: bool = JSON_OPTION) -> None:
    """Everyone in the directory."""
    from rich.table import Table

    from tocsin.db.engine import session_scope
    from tocsin.incidents.views import person_dict
    from tocsin.people.directory import list_people as query

    with session_scope() as session:
        rows = [person_dict(p) for p in query(session)]
    if json_output:
        print_json(rows)
        return
    table = Table("Handle", "Name", "Email", "Slack", "Locale", "Zone", "Console")
    for row in rows:
        login = "password set" if row["has_password"] else "no login"
        console_access = ("admin, " if row["is_admin"] else "") + login
        cells = (row[k] or "" for k in ("handle", "name", "email", "slack_user_id", "locale", "timezone"))
        table.add_row(*cells, console_access)
    console.print(table)


@people_app.command("passwd")
def passwd(
    handle: Annotated[str, typer.Argument(help="The person who will log in to the web console.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (scripts).")
    ] = False,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the password: no more console log-in.")] = False,
) -> None:
    """Set a person's web-console password (asked twice; only its argon2 hash is stored)."""
    import sys

    from tocsin.core.errors import InvalidInput
    from tocsin.db.engine import session_scope
    from tocsin.people.directory import get_person
    from tocsin.people.passwords import MIN_LENGTH, clear_password, set_password

    if remove:
        with session_scope() as session:
            person = clear_password(session, handle).handle
        console.print(f"{person} can no longer log in to the web console")
        return
    with session_scope() as session:
        get_person(session, handle)  # a typo is named before anyone types a password
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(f"New password for {handle} (at least {MIN_LENGTH} characters)", hide_input=True)
        if typer.prompt("Once more", hide_input=True) != password:
            raise InvalidInput("the two passwords differ; nothing changed")
    with session_scope() as session:
        person = set_password(session, handle, password).handle  # refuses a weak password: nothing written
    console.print(f"Password set for {person}: they can log in to the web console (`tocsin serve`, /login)")


@people_app.command("admin")
def admin(
    handle: Annotated[str, typer.Argument(help="Person handle.")],
    grant: Annotated[bool, typer.Option("--grant/--revoke", help="Make an admin, or stop being one.")] = True,
    json_output: bool = JSON_OPTION,
) -> None:
    """Make a person an admin (may launch playbooks on and close any incident), or revoke it."""
    from tocsin.db.engine import session_scope
    from tocsin.incidents.views import person_dict
    from tocsin.people.passwords import set_admin

    with session_scope() as session:
        data = person_dict(set_admin(session, handle, grant))
    if json_output:
        print_json(data)
    else:
        console.print(f"{data['handle']} is {'now' if grant else 'no longer'} an admin")
