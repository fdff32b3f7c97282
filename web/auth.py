"""Who is calling: `Authorization: Bearer <token>` names the acting person (see `tocsin token create`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tocsin.db.engine import session_scope
from tocsin.people.tokens import person_for_token

bearer = HTTPBearer(auto_error=False, description="An API token from `tocsin token create PERSON`.")
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def acting_person(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """The handle of the person the presented token acts as; 401 without a valid token."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(401, "an API token is needed: Authorization: Bearer <token>", headers=CHALLENGE)
    with session_scope() as session:
        person = person_for_token(session, credentials.credentials.strip())
        handle = person.handle if person is not None else None
    if handle is None:
        raise HTTPException(401, "unknown or revoked API token", headers=CHALLENGE)
    return handle


Actor = Annotated[str, Depends(acting_person)]
