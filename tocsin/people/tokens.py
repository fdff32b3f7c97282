"""API tokens (service level, no web): create one for a person, find the person behind a presented token,
list and revoke. The token is random, shown once; the database holds only its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from tocsin.core.clocks import utcnow
from tocsin.core.errors import InvalidInput, NotFound
from tocsin.models import ApiToken, Person
from tocsin.people.directory import get_person

PREFIX = "tsn_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CreatedToken:
    id: int
    person: str
    name: str
    token: str  # the only time the clear token exists


def create_token(session: Session, handle: str, *, name: str = "", actor: str) -> CreatedToken:
    """A new token acting as an existing person (a typo must not invent a person who can then act)."""
    person = get_person(session, handle)
    name = name.strip()
    if len(name) > 100:
        raise InvalidInput(f"token name is {len(name)} characters long; at most 100", where="--name")
    token = PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        person_id=person.id or 0,
        name=name,
        token_sha256=token_hash(token),
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(record)
    session.flush()
    return CreatedToken(record.id or 0, person.handle, name, token)


def person_for_token(session: Session, token: str) -> Person | None:
    """The person a presented token acts as; None if it is unknown or revoked."""
    if not token.startswith(PREFIX):
        return None
    row = session.exec(
        select(Person)
        .join(ApiToken, col(ApiToken.person_id) == Person.id)
        .where(ApiToken.token_sha256 == token_hash(token), col(ApiToken.revoked_at).is_(None))
    ).first()
    return row


def list_tokens(session: Session) -> list[tuple[ApiToken, Person]]:
    statement = select(ApiToken, Person).join(Person, col(Person.id) == ApiToken.person_id).order_by(col(ApiToken.id))
    return list(session.exec(statement))


def revoke_token(session: Session, token_id: int) -> ApiToken:
    record = session.get(ApiToken, token_id)
    if record is None:
        raise NotFound(f"no API token {token_id}")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        session.add(record)
    return record
