"""The directory over HTTP: who is in it, adding and updating people, admins and console passwords, and who the
caller is. Changes go through `tocsin.people.actions`: the directory is the admins', a password its owner's own
(an admin sets others'). These refusals belong to no incident: 403, and a line in the service's log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from tocsin.web.auth import Caller
from tocsin.web.schemas import AdminBody, PasswordBody, PersonBody

from tocsin.db.engine import session_scope
from tocsin.incidents.views import person_dict
from tocsin.people import actions
from tocsin.people.authorize import is_admin
from tocsin.people.directory import list_people as query

router = APIRouter(prefix="/api", tags=["people"])


@router.get("/me", summary="Who the token acts as, and whether they are an admin")
def me(caller: Caller) -> dict[str, Any]:
    with session_scope() as session:
        return {"handle": caller.handle, "is_admin": is_admin(session, caller.handle)}


@router.get("/people", summary="Everyone in the directory, by handle")
def list_people(_caller: Caller) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [person_dict(p) for p in query(session)]


@router.post("/people", status_code=201, summary="Add a person, or update their details (admin)")
def add_person(body: PersonBody, caller: Caller) -> dict[str, Any]:
    return actions.add_person(
        caller, body.handle, name=body.name, email=body.email, slack_user=body.slack_user, locale=body.locale,
        timezone=body.timezone, admin=body.admin,
    )  # fmt: skip


@router.post("/people/{handle}/admin", summary="Grant or revoke admin (admin)")
def grant_admin(handle: str, body: AdminBody, caller: Caller) -> dict[str, Any]:
    return actions.grant_admin(caller, handle, admin=body.admin)


@router.put("/people/{handle}/password", summary="Set a console password (your own; an admin for anyone)")
def set_password(handle: str, body: PasswordBody, caller: Caller) -> dict[str, Any]:
    return actions.set_password(caller, handle, body.password.get_secret_value())


@router.delete("/people/{handle}/password", summary="Remove a console password (your own; an admin for anyone)")
def remove_password(handle: str, caller: Caller) -> dict[str, Any]:
    return actions.set_password(caller, handle, None)
