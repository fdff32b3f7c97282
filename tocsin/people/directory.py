"""The people directory: handles that roles, approvals and escalations refer to."""

from __future__ import annotations

import difflib
import re

from sqlmodel import Session, select

from tocsin.core.clocks import utcnow
from tocsin.core.errors import InvalidInput, NotFound
from tocsin.models import Person

HANDLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


def check_handle(handle: str) -> str:
    handle = handle.strip()
    if not HANDLE.match(handle):
        raise InvalidInput(
            f"person {handle!r} is not a valid handle (letters, digits and . _ @ + -, up to 64 characters)"
        )
    return handle.lower()


def find_person(session: Session, handle: str) -> Person | None:
    return session.exec(select(Person).where(Person.handle == check_handle(handle))).first()


def get_person(session: Session, handle: str) -> Person:
    person = find_person(session, handle)
    if person is None:
        raise NotFound(f"no person {handle!r} in the directory (add them with `tocsin people add`)")
    return person


def require_person(session: Session, handle: str) -> Person:
    """The person with this handle; an unknown one is refused, with the nearest handles as suggestions (a typo
    must never create a person who then receives alerts or holds a role)."""
    person = find_person(session, handle)
    if person is not None:
        return person
    known = list(session.exec(select(Person.handle)))
    close = difflib.get_close_matches(check_handle(handle), known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise NotFound(f"no person {handle!r} in the directory{hint} (add them with `tocsin people add {handle}`)")


def ensure_person(session: Session, handle: str) -> tuple[Person, bool]:
    """The person with this handle, created with just the handle if unknown. Returns (person, created)."""
    person = find_person(session, handle)
    if person is not None:
        return person, False
    person = Person(handle=check_handle(handle), created_at=utcnow())
    session.add(person)
    session.flush()
    return person, True


def upsert_person(
    session: Session,
    handle: str,
    *,
    name: str | None = None,
    email: str | None = None,
    slack_user_id: str | None = None,
    locale: str | None = None,
    timezone: str | None = None,
) -> Person:
    person, _ = ensure_person(session, handle)
    if email is not None and "@" not in email:
        raise InvalidInput(f"email {email!r} is not an email address")
    for field, value in (
        ("name", name),
        ("email", email),
        ("slack_user_id", slack_user_id),
        ("locale", locale),
        ("timezone", timezone),
    ):
        if value is not None:
            setattr(person, field, value)
    session.add(person)
    return person


def list_people(session: Session) -> list[Person]:
    return list(session.exec(select(Person).order_by(Person.handle)))
