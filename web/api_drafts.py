"""`/api/.../drafts` and legal's decisions: list, show, approve, reject. The approvals service enforces the
legal role and four-eyes, and writes every refused attempt to the incident's timeline (→ 403 here)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks
from tocsin.web.auth import Actor
from tocsin.web.background import wake_later
from tocsin.web.schemas import ApproveBody, RejectBody

from tocsin.core.errors import InvalidInput
from tocsin.db.engine import session_scope

router = APIRouter(prefix="/api", tags=["drafts"])


@router.get("/incidents/{incident}/drafts", summary="The drafts of an incident, oldest first")
def list_drafts(incident: str, _actor: Actor) -> list[dict[str, Any]]:
    from tocsin.drafts.drafting import list_drafts as query
    from tocsin.drafts.views import draft_dict
    from tocsin.incidents.service import parse_incident_id

    with session_scope() as session:
        return [draft_dict(d, content=False) for d in query(session, parse_incident_id(incident))]


@router.get(
    "/drafts/{draft}", summary="A draft's content, revisions, decisions, whether it may be sent, and the last diff"
)
def show_draft(draft: str, _actor: Actor) -> dict[str, Any]:
    from tocsin.drafts.drafting import parse_draft_id
    from tocsin.drafts.review import review_data

    with session_scope() as session:
        return review_data(session, parse_draft_id(draft))


def _decided(draft_id: int, approval: Any, incident_id: int, tasks: BackgroundTasks) -> dict[str, Any]:
    from tocsin.drafts.views import approval_dict

    wake_later(tasks, incident_id)
    return {"draft": f"D-{draft_id}", "incident": f"INC-{incident_id}", **approval_dict(approval)}


@router.post("/drafts/{draft}/approve", summary="Approve the draft's exact current content (legal, not its author)")
def approve(draft: str, body: ApproveBody, actor: Actor, tasks: BackgroundTasks) -> dict[str, Any]:
    from tocsin.drafts.approvals import approve as record_approval
    from tocsin.drafts.drafting import get_draft, parse_draft_id

    if body.sha256 is not None and len(body.sha256.strip()) < 12:
        raise InvalidInput("sha256 needs at least the first 12 characters of the hash", where="body.sha256")
    draft_id = parse_draft_id(draft)
    with session_scope() as session:
        approval = record_approval(session, draft_id, approver=actor, expected_sha256=body.sha256, comment=body.comment)
        incident_id = get_draft(session, draft_id).incident_id
    return _decided(draft_id, approval, incident_id, tasks)


@router.post("/drafts/{draft}/reject", summary="Reject the draft, saying what must change (legal)")
def reject(draft: str, body: RejectBody, actor: Actor, tasks: BackgroundTasks) -> dict[str, Any]:
    from tocsin.drafts.approvals import reject as record_rejection
    from tocsin.drafts.drafting import get_draft, parse_draft_id

    draft_id = parse_draft_id(draft)
    with session_scope() as session:
        approval = record_rejection(session, draft_id, approver=actor, comment=body.comment)
        incident_id = get_draft(session, draft_id).incident_id
    return _decided(draft_id, approval, incident_id, tasks)
