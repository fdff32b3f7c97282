"""The directory's doors: add or update a person, grant or revoke admin, set or remove a console password,
mint and revoke API tokens. The directory is the admins' (on a fresh install, before anyone is an admin, the
local operator's); a password or a token is its owner's own.

These actions belong to no incident: a refusal is logged (with the rule), not put on a timeline.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from tocsin.core.acting import Actor, acting
from tocsin.core.clocks import zone
from tocsin.core.errors import NotFound
from tocsin.db.engine import session_scope
from tocsin.incidents.views import person_dict
from tocsin.models import ApiToken, Person
from tocsin.people import directory, passwords, tokens
from tocsin.people.authorize import Subject, authorize
from tocsin.policy import Action


def add_person(
    actor: Actor,
    handle: str,
    *,
    name: str | None = None,
    email: str | None = None,
    slack_user: str | None = None,
    locale: str | None = None,
    timezone: str | None = None,
    admin: bool | None = None,
) -> dict[str, Any]:
    """Add a person, or update their details (and, with `admin`, their admin standing: the `person.admin` rule)."""
    if timezone:
        zone(timezone)
    with acting(actor), session_scope() as session:
        target = directory.check_handle(handle)
        authorize(session, Action.add_person, actor, Subject(person=target))
        if admin is not None:
            authorize(session, Action.grant_admin, actor, Subject(person=target))
        person = directory.upsert_person(
            session, target, name=name, email=email, slack_user_id=slack_user, locale=locale, timezone=timezone
        )
        if admin is not None:
            person = passwords.set_admin(session, target, admin)
        return person_dict(person)


def grant_admin(actor: Actor, handle: str, *, admin: bool = True) -> dict[str, Any]:
    with acting(actor), session_scope() as session:
        target = directory.require_person(session, handle).handle
        authorize(session, Action.grant_admin, actor, Subject(person=target))
        return person_dict(passwords.set_admin(session, target, admin))


def set_password(actor: Actor, handle: str, password: str | None) -> dict[str, Any]:
    """Set (or, with None, remove) a console password: your own, or anyone's as an admin."""
    with acting(actor), session_scope() as session:
        target = directory.require_person(session, handle).handle
        authorize(session, Action.set_password, actor, Subject(person=target))
        person = (
            passwords.clear_password(session, target)
            if password is None
            else passwords.set_password(session, target, password)
        )
        return person_dict(person)


def check_person(handle: str) -> str:
    """The handle of a person in the directory (a typo is named with suggestions before a password is asked)."""
    with session_scope() as session:
        return directory.require_person(session, handle).handle


def mint_token(actor: Actor, handle: str, *, name: str = "") -> dict[str, Any]:
    """A new API token acting as `handle` (yourself; an admin for others). Shown once, stored as a hash."""
    with acting(actor), session_scope() as session:
        target = directory.require_person(session, handle).handle
        authorize(session, Action.mint_token, actor, Subject(person=target))
        created = tokens.create_token(session, target, name=name, actor=actor.handle)
        return {"id": created.id, "person": created.person, "name": created.name, "token": created.token}


def revoke_token(actor: Actor, token_id: int) -> dict[str, Any]:
    with acting(actor), session_scope() as session:
        row = session.exec(
            select(ApiToken, Person).join(Person).where(ApiToken.id == token_id)  # type: ignore[arg-type]
        ).first()
        if row is None:
            raise NotFound(f"no API token {token_id}")
        authorize(session, Action.revoke_token, actor, Subject(person=row[1].handle))
        record = tokens.revoke_token(session, token_id)
        return {"id": record.id, "person": row[1].handle, "revoked_at": record.revoked_at}
