"""Drafts over HTTP: list, show, draft, edit, send to review, legal's decisions (approve, reject) and recording
that an approved notice went out. Every change is an action of `tocsin.drafts.actions`: the role policy (who
drafts, legal decides, four-eyes, who sends to whom) refuses with 403 and puts the refusal on the timeline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks
from tocsin.web.auth import Caller
from tocsin.web.background import later
from tocsin.web.schemas import ApproveBody, DraftBody, EditBody, RejectBody, SentBody

from tocsin.core.ids import parse_draft_id, parse_incident_id
from tocsin.db.engine import session_scope
from tocsin.drafts import actions
from tocsin.drafts.drafting import DraftRequest
from tocsin.drafts.drafting import list_drafts as query
from tocsin.drafts.review import review_data
from tocsin.drafts.views import draft_dict

router = APIRouter(prefix="/api", tags=["drafts"])


@router.get("/incidents/{incident}/drafts", summary="The drafts of an incident, oldest first")
def list_drafts(incident: str, _caller: Caller) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [draft_dict(d, content=False) for d in query(session, parse_incident_id(incident))]


@router.post(
    "/incidents/{incident}/drafts",
    status_code=201,
    summary="Draft a message from a template (commander, legal, comms or DPO)",
)
def create_draft(incident: str, body: DraftBody, caller: Caller) -> dict[str, Any]:
    request = DraftRequest(
        parse_incident_id(incident), body.template.strip(), inputs=dict(body.inputs), locale=body.locale,
        recipient=body.recipient,
    )  # fmt: skip
    return actions.create(caller, request)


@router.get(
    "/drafts/{draft}", summary="A draft's content, revisions, decisions, whether it may be sent, and the last diff"
)
def show_draft(draft: str, _caller: Caller) -> dict[str, Any]:
    with session_scope() as session:
        return review_data(session, parse_draft_id(draft))


@router.post("/drafts/{draft}/edit", summary="A new revision: new content by hand, or new inputs rendered again")
def edit_draft(draft: str, body: EditBody, caller: Caller) -> dict[str, Any]:
    return actions.edit(
        caller, parse_draft_id(draft), subject=body.subject, text=body.text, html=body.html, inputs=body.inputs
    )


@router.post("/drafts/{draft}/review", summary="Send the draft to legal for review; answers who may review it")
def submit_for_review(draft: str, caller: Caller) -> dict[str, Any]:
    return actions.submit_for_review(caller, parse_draft_id(draft))


@router.post(
    "/drafts/{draft}/approve", summary="Approve the exact content whose sha256 you reviewed (legal, not its author)"
)
def approve(draft: str, body: ApproveBody, caller: Caller, tasks: BackgroundTasks) -> dict[str, Any]:
    return actions.approve(caller, parse_draft_id(draft), sha256=body.sha256, comment=body.comment, waker=later(tasks))


@router.post("/drafts/{draft}/reject", summary="Reject the draft, saying what must change (legal)")
def reject(draft: str, body: RejectBody, caller: Caller, tasks: BackgroundTasks) -> dict[str, Any]:
    return actions.reject(caller, parse_draft_id(draft), comment=body.comment, waker=later(tasks))


@router.post(
    "/drafts/{draft}/sent",
    summary="Record that the approved content went out by other means (by the audience's senders)",
)
def mark_sent(draft: str, body: SentBody, caller: Caller, tasks: BackgroundTasks) -> dict[str, Any]:
    return actions.mark_sent(caller, parse_draft_id(draft), reference=body.reference, waker=later(tasks))
