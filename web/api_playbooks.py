"""`/api/incidents/{incident}/playbooks`: launch a built-in playbook on an incident (commander or admin only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from tocsin.web.auth import Actor

router = APIRouter(prefix="/api/incidents", tags=["playbooks"])


class LaunchBody(BaseModel):
    playbook: str = Field(description="A built-in playbook name (see `tocsin playbooks`).")
    inputs: dict[str, str] = Field(default_factory=dict, description="The playbook's inputs, NAME: VALUE.")


@router.post(
    "/{incident}/playbooks",
    status_code=201,
    summary="Launch a playbook: urgent steps now, the rest handed to Prefect (the incident's commander or an admin)",
)
def launch(incident: str, body: LaunchBody, actor: Actor) -> dict[str, Any]:
    from tocsin.flows.launch import launch_and_start
    from tocsin.playbooks.loader import get_built_in

    from tocsin.incidents.service import parse_incident_id

    playbook = get_built_in(body.playbook.strip())
    return launch_and_start(parse_incident_id(incident), playbook.name, body.inputs, actor)
