"""The HTTP service: `tocsin serve`, and API tokens for scripts (`tocsin token create|list|revoke`)."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, acting_person, console, print_json

token_app = typer.Typer(help="API tokens for scripts calling `tocsin serve`.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8300,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
) -> None:
    """Run the HTTP service: the web console (/), the JSON API (/api, OpenAPI at /docs), Slack and SendGrid."""
    import uvicorn

    from tocsin.core.config import get_settings
    from tocsin.db.engine import current_engine
    from tocsin.web.app import create_app

    current_engine()  # migrate before the first request, and fail now if the database is unreachable
    console.print(f"Tocsin serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(get_settings()), host=host, port=port, log_level=log_level.lower())


@token_app.command("create")
def create(
    person: Annotated[str, typer.Argument(help="The person the token acts as (must be in the directory).")],
    name: Annotated[str, typer.Option("--name", help="What the token is for, e.g. the script's name.")] = "",
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Create an API token. It is printed once: only its SHA-256 is stored."""
    from tocsin.db.engine import session_scope
    from tocsin.people.tokens import create_token

    with session_scope() as session:
        created = create_token(session, person, name=name, actor=acting_person(actor))
    if json_output:
        print_json({"id": created.id, "person": created.person, "name": created.name, "token": created.token})
        return
    console.print(f"Token {created.id} for {created.person}{f' ({created.name})' if created.name else ''}:")
    print(created.token)
    console.print("Store it now: it is not shown again. Send it as `Authorization: Bearer <token>`.")


@token_app.command("list")
def list_tokens(json_output: bool = JSON_OPTION) -> None:
    """API tokens (never the tokens themselves): who they act as and whether they are revoked."""
    from rich.table import Table

    from tocsin.core.clocks import iso_utc
    from tocsin.db.engine import session_scope
    from tocsin.people.tokens import list_tokens as query

    with session_scope() as session:
        rows = [
            {
                "id": token.id,
                "person": person.handle,
                "name": token.name,
                "created_at": iso_utc(token.created_at),
                "created_by": token.created_by,
                "revoked_at": iso_utc(token.revoked_at),
            }
            for token, person in query(session)
        ]
    if json_output:
        print_json(rows)
        return
    if not rows:
        console.print("No API tokens. Create one with `tocsin token create PERSON --name NAME`.")
        return
    table = Table("ID", "Person", "Name", "Created", "Revoked")
    for row in rows:
        table.add_row(str(row["id"]), row["person"], row["name"], row["created_at"], row["revoked_at"] or "")
    console.print(table)


@token_app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="Token id (see `tocsin token list`).")],
    json_output: bool = JSON_OPTION,
) -> None:
    """Revoke an API token: requests with it are refused from now on."""
    from tocsin.core.clocks import iso_utc
    from tocsin.db.engine import session_scope
    from tocsin.people.tokens import revoke_token

    with session_scope() as session:
        record = revoke_token(session, token_id)
        data = {"id": record.id, "revoked_at": iso_utc(record.revoked_at)}
    if json_output:
        print_json(data)
        return
    console.print(f"Token {data['id']} revoked.")
