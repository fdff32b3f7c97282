"""Who is calling: `Authorization: Bearer <token>` names the acting person (see `tocsin token create`).

A route takes `caller: Caller` and hands that `Actor` (the token's person, through the API door) to the action;
the action asks the role policy. No route checks a role itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tocsin.core.acting import Actor, Via
from tocsin.db.engine import session_scope
from tocsin.people.tokens import person_for_token

bearer = HTTPBearer(auto_error=False, description="An API token from `tocsin token create PERSON` or `tocsin login`.")
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def acting_actor(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """The person the presented token acts as, through the API door; 401 without a valid token."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(401, "an API token is needed: Authorization: Bearer <token>", headers=CHALLENGE)
    with session_scope() as session:
        person = person_for_token(session, credentials.credentials.strip())
        handle = person.handle if person is not None else None
    if handle is None:
        raise HTTPException(401, "unknown or revoked API token", headers=CHALLENGE)
    return Actor(handle, Via.api)


Caller = Annotated[Actor, Depends(acting_actor)]


def client_address(request: Request) -> str:
    """The connecting peer as the server sees it, for the log-in throttle. Never a header the client writes:
    X-Forwarded-For is honoured only where the server itself is told to trust a proxy (`tocsin serve`)."""
    return request.client.host if request.client else "unknown"
