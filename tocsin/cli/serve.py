"""The HTTP service: `tocsin serve`, and API tokens for scripts (`tocsin token create|list|revoke`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, console, print_json

if TYPE_CHECKING:  # the CLI imports settings lazily (start-up time)
    from tocsin.core.config import Settings

token_app = typer.Typer(help="API tokens for scripts calling `tocsin serve`.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8300,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
) -> None:
    """Run the HTTP service: the web console (/), the JSON API (/api, OpenAPI at /docs), Slack and SendGrid."""
    from tocsin.cli.gateway import require_local

    require_local("serve")
    import uvicorn

    from tocsin.core.config import get_settings
    from tocsin.db.engine import current_engine
    from tocsin.web.app import create_app

    current_engine()  # migrate before the first request, and fail now if the database is unreachable
    settings = get_settings()
    console.print(f"Tocsin serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    if settings.web_trust_proxy:
        console.print(
            f"Trusting X-Forwarded-For/-Proto from {settings.web_forwarded_allow_ips} (TOCSIN_WEB_TRUST_PROXY)"
        )
    uvicorn.run(create_app(settings), **uvicorn_options(settings, host=host, port=port, log_level=log_level))


def uvicorn_options(settings: Settings, *, host: str, port: int, log_level: str) -> dict[str, Any]:
    """uvicorn's options. Proxy headers are off unless TOCSIN_WEB_TRUST_PROXY is set: uvicorn's own default
    trusts X-Forwarded-For from 127.0.0.1, which let any local process pick the client address the log-in
    throttle counts."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    trusted = settings.web_trust_proxy
    # Tocsin's own lines (refusals, one-line errors, Slack replays) go where uvicorn's go, at the same level.
    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["tocsin"] = {"handlers": ["default"], "level": log_level.upper(), "propagate": False}
    return {
        "host": host,
        "port": port,
        "log_level": log_level.lower(),
        "log_config": log_config,
        "proxy_headers": trusted,
        # Never the FORWARDED_ALLOW_IPS environment variable uvicorn would otherwise read.
        "forwarded_allow_ips": settings.web_forwarded_allow_ips if trusted else "",
    }


@token_app.command("create")
def create(
    person: Annotated[str, typer.Argument(help="The person the token acts as (must be in the directory).")],
    name: Annotated[str, typer.Option("--name", help="What the token is for, e.g. the script's name.")] = "",
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Create an API token (yours; an admin's for anyone). It is printed once: only its SHA-256 is stored."""
    from tocsin.cli.gateway import open_gateway

    created = open_gateway(actor).mint_token(person, name=name)
    if json_output:
        print_json(created)
        return
    named = f" ({created['name']})" if created.get("name") else ""
    console.print(f"Token {created['id']} for {created['person']}{named}:")
    print(created["token"])
    console.print("Store it now: it is not shown again. Send it as `Authorization: Bearer <token>`.")


@token_app.command("list")
def list_tokens(json_output: bool = JSON_OPTION) -> None:
    """API tokens (never the tokens themselves): who they act as and whether they are revoked."""
    from rich.table import Table

    from tocsin.cli.gateway import open_gateway

    rows = open_gateway().tokens()
    if json_output:
        print_json(rows)
        return
    if not rows:
        console.print("No API tokens. Create one with `tocsin token create PERSON --name NAME`.")
        return
    table = Table("ID", "Person", "Name", "Created", "Revoked")
    for row in rows:
        revoked = row.get("revoked_at") or ""
        table.add_row(str(row["id"]), row["person"], row.get("name") or "", row.get("created_at") or "", revoked)
    console.print(table)


@token_app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="Token id (see `tocsin token list`).")],
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Revoke an API token (yours; an admin's for anyone): requests with it are refused from now on."""
    from tocsin.cli.gateway import open_gateway

    data = open_gateway(actor).revoke_token(token_id)
    if json_output:
        print_json(data)
        return
    console.print(f"Token {data['id']} revoked.")
