"""Client mode: `tocsin login URL`, `tocsin logout`, `tocsin whoami`.

After `tocsin login`, the commands that change or read incidents, drafts, people and tokens act through the
server's JSON API as you (your token), instead of on a local database; see `tocsin.cli.gateway`.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.credentials import Login
from tocsin.cli.output import AS_OPTION, JSON_OPTION, console, print_json

DEFAULT_TOKEN_NAME = "tocsin login"


@app.command()
def login(
    url: Annotated[str, typer.Argument(help="The server, e.g. https://tocsin.example.org.")],
    handle: Annotated[str | None, typer.Option("--handle", help="Your handle (asked if not given).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read your console password from standard input (scripts).")
    ] = False,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Store an existing API token read from standard input instead.")
    ] = False,
    json_output: bool = JSON_OPTION,
) -> None:
    """Log in to a `tocsin serve` with your console password: from now on, commands act through the server as
    you (an API token is stored in ~/.config/tocsin/login.json, readable by you only)."""
    import os

    from tocsin.cli.credentials import SERVER_ENV, normalise_url, save_login
    from tocsin.core.errors import InvalidInput

    if password_stdin and token_stdin:
        raise InvalidInput("give --password-stdin or --token-stdin, not both")
    server = normalise_url(url)
    _warn_if_plain_http(server)
    stored = _with_token(server) if token_stdin else _with_password(server, handle, password_stdin)
    path = save_login(stored)
    data = {"server": server, "handle": stored.handle, "token_id": stored.token_id, "login_file": str(path)}
    if json_output:
        print_json(data)
        return
    console.print(f"Logged in to {server} as {stored.handle}. Commands now act through the server.")
    console.print(f"[dim]Token stored in {path} (readable by you only); `tocsin logout` revokes it.[/]")
    if os.environ.get(SERVER_ENV):
        console.print(f"[yellow]{SERVER_ENV} is set: it takes precedence over this login while it is.[/]")


def _with_token(server: str) -> Login:
    """An existing token (e.g. from `tocsin token create`), checked against the server before it is stored.
    `tocsin logout` forgets it but does not revoke it: it was yours before this login."""
    from tocsin.cli.remote import LoginRefused, request
    from tocsin.core.errors import InvalidInput

    token = sys.stdin.readline().strip()
    if not token:
        raise InvalidInput("no token on standard input")
    try:
        me = request(Login(server, token), "GET", "/api/me").json()
    except LoginRefused:
        raise LoginRefused(f"{server} does not accept this token (unknown or revoked)") from None
    return Login(server, token, handle=me["handle"])


def _with_password(server: str, handle: str | None, password_stdin: bool) -> Login:
    """A new token for this login, in exchange for the console password (throttled like the console's log-in)."""
    from tocsin.cli.remote import LoginRefused, error_message, raise_for, request
    from tocsin.core.errors import InvalidInput

    who = (handle or typer.prompt("Handle")).strip()
    if not who:
        raise InvalidInput("a handle is needed")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(f"Password for {who} on {server}", hide_input=True)
    name = _token_name()
    response = request(server, "POST", "/api/login", json={"handle": who, "password": password, "name": name})
    if response.status_code in (401, 403, 429):  # wrong handle or password, or locked out for a while
        raise LoginRefused(f"{server} refused the log-in: {error_message(response)}")
    raise_for(response, Login(server, ""))
    answer = response.json()
    person = answer.get("person")
    token = str(answer["token"])
    stored = Login(server, token, handle=(person.get("handle") if isinstance(person, dict) else person) or who)
    token_id = answer.get("id", answer.get("token_id"))
    if not isinstance(token_id, int):
        token_id = _find_token_id(stored, name)
    return Login(server, token, handle=stored.handle, token_id=token_id)


def _find_token_id(stored: Login, name: str) -> int | None:
    """The id of the token just made (its name is unique to this log-in), so that logout can revoke it."""
    from tocsin.cli.remote import request
    from tocsin.core.errors import TocsinError

    try:
        rows = request(stored, "GET", "/api/tokens").json()
    except (TocsinError, ValueError):
        return None
    ids = [r.get("id") for r in rows if isinstance(r, dict) and r.get("name") == name and not r.get("revoked_at")]
    return ids[0] if len(ids) == 1 and isinstance(ids[0], int) else None


def _token_name() -> str:
    """What the server's token list shows for this log-in: where from, and a nonce that makes it unique."""
    import getpass
    import secrets
    import socket

    try:
        where = f"{getpass.getuser()}@{socket.gethostname()}"
    except Exception:  # no passwd entry (containers)
        where = socket.gethostname()
    return f"{DEFAULT_TOKEN_NAME} ({where[:80]}, {secrets.token_hex(4)})"


def _warn_if_plain_http(server: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(server)
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        print(
            f"warning: {server} is plain http: your password and token cross the network unencrypted; "
            "use https:// outside this machine",
            file=sys.stderr,
        )


@app.command()
def logout(json_output: bool = JSON_OPTION) -> None:
    """Revoke the stored login's token on the server and forget it: commands act on the local database again."""
    from tocsin.cli.credentials import forget_login, login_file, read_login
    from tocsin.cli.remote import request
    from tocsin.core.errors import TocsinError

    stored = read_login()
    revoked = False
    problem = None
    if stored is not None and stored.token_id is not None:
        try:
            request(stored, "DELETE", f"/api/tokens/{stored.token_id}")
            revoked = True
        except TocsinError as error:  # already revoked, or the server is away: forget it all the same
            problem = str(error)
    forgotten = forget_login()
    data = {
        "server": stored.url if stored else None,
        "handle": stored.handle if stored else None,
        "revoked": revoked,
        "forgotten": forgotten,
    }
    if json_output:
        print_json(data)
    elif stored is None:
        console.print(f"Not logged in (no {login_file()}).")
    else:
        console.print(f"Logged out of {stored.url}; commands act on the local database again.")
        if problem:
            print(f"warning: the token could not be revoked on the server: {problem}", file=sys.stderr)
        elif not revoked:
            console.print(
                "[dim]The token was forgotten here, not revoked on the server (its id is unknown, or it was "
                "given with --token-stdin): `tocsin token revoke ID` revokes it.[/]"
            )
    _note_environment()


def _note_environment() -> None:
    import os

    from tocsin.cli.credentials import SERVER_ENV, TOKEN_ENV

    if os.environ.get(SERVER_ENV) or os.environ.get(TOKEN_ENV):
        print(f"note: {SERVER_ENV} / {TOKEN_ENV} are set: commands still act through that server", file=sys.stderr)


@app.command()
def whoami(actor: str | None = AS_OPTION, json_output: bool = JSON_OPTION) -> None:
    """Who you are to Tocsin: the local operator on the local database, or your handle on the server."""
    from tocsin.cli.gateway import open_gateway

    data = open_gateway(actor).whoami()
    if json_output:
        print_json(data)
        return
    if data["mode"] == "local":
        how = "claimed with --as or TOCSIN_USER" if data["claimed"] else "your login name"
        standing = ", an admin" if data["is_admin"] else ("" if data["in_directory"] else ", not in the directory")
        console.print(f"Local mode: acting as {data['handle']}{standing} ({how}; OS user {data['os_user']})")
        console.print(f"Database: {data['database']}", markup=False)
    else:
        admin = ", an admin" if data.get("is_admin") else ""
        console.print(f"Client of {data['server']}: you are {data['handle']}{admin}")
