"""API tokens over HTTP: list (your own; an admin sees all), mint, revoke, and `POST /api/login`, which trades a
console password for a new token (what `tocsin login` calls). A token is shown once; only its SHA-256 is kept.
The password is checked and throttled exactly as the console's log-in checks it, and is never logged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from tocsin.web.auth import Caller, client_address
from tocsin.web.errors import error_response
from tocsin.web.schemas import LoginBody, TokenBody

from tocsin.core.clocks import iso_utc
from tocsin.core.ids import parse_row_id
from tocsin.db.engine import session_scope
from tocsin.people import actions
from tocsin.people.authorize import is_admin
from tocsin.people.passwords import LoginRefused, Throttle, authenticate
from tocsin.people.tokens import create_token
from tocsin.people.tokens import list_tokens as query

router = APIRouter(prefix="/api", tags=["tokens"])


@router.get("/tokens", summary="API tokens (never the tokens themselves): your own, or all for an admin")
def list_tokens(caller: Caller) -> list[dict[str, Any]]:
    with session_scope() as session:
        everyone = is_admin(session, caller.handle)
        return [
            {
                "id": token.id,
                "person": person.handle,
                "name": token.name,
                "created_at": iso_utc(token.created_at),
                "created_by": token.created_by,
                "revoked_at": iso_utc(token.revoked_at),
            }
            for token, person in query(session)
            if everyone or person.handle == caller.handle
        ]


@router.post("/tokens", status_code=201, summary="Mint an API token (for yourself; an admin for anyone), shown once")
def mint_token(body: TokenBody, caller: Caller) -> dict[str, Any]:
    return actions.mint_token(caller, body.person or caller.handle, name=body.name)


@router.delete("/tokens/{token}", summary="Revoke an API token (your own; an admin any)")
def revoke_token(token: str, caller: Caller) -> dict[str, Any]:
    return actions.revoke_token(caller, parse_row_id(token, "an API token"))


@router.post(
    "/login",
    summary="Trade a console password for a new API token (throttled like the console's log-in)",
    responses={401: {"description": "Wrong handle or password"}, 429: {"description": "Too many failed log-ins"}},
)
def login(body: LoginBody, request: Request) -> Any:
    settings = request.app.state.settings
    throttle = Throttle(settings.web_login_attempts, timedelta(minutes=settings.web_lockout_minutes))
    client = client_address(request)
    try:
        with session_scope() as session:
            person = authenticate(
                session, body.handle, body.password.get_secret_value(), client=client, throttle=throttle
            )
            created = create_token(session, person.handle, name=body.name, actor=person.handle)
    except LoginRefused as refused:
        status = 429 if refused.throttled else 401
        return error_response(status, str(refused))
    return {"token": created.token, "person": created.person, "id": created.id, "name": created.name}
