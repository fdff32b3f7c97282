"""The drafts' doors: draft, edit, submit for review, approve, reject, and record that an approved message went
out. Each asks the policy with the acting person, changes the draft and appends the timeline event in one
transaction, and wakes the runs waiting on the incident after the commit.

An approval names the SHA-256 of the text the reviewer saw, at every door: the approval covers exactly that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tocsin.core.acting import Actor, acting
from tocsin.core.errors import InvalidInput
from tocsin.core.wakeup import Waker, wake_now
from tocsin.db.engine import session_scope
from tocsin.drafts import approvals, drafting
from tocsin.drafts.views import approval_dict, draft_dict
from tocsin.incidents.service import people_with_role
from tocsin.messages.review_cards import queue_review_cards
from tocsin.models import Draft
from tocsin.models.enums import Role
from tocsin.people.authorize import Subject, authorize
from tocsin.policy import Action
from tocsin.templates.manifest import Audience

# Who sends an approved message depends on whom it goes to (see `tocsin.policy`).
SEND_ACTION = {
    Audience.individuals.value: Action.send_to_public,
    Audience.public.value: Action.send_to_public,
    Audience.regulator.value: Action.file_with_regulator,
    Audience.internal.value: Action.send_internal,
}


def send_action(draft: Draft) -> Action:
    return SEND_ACTION.get(draft.audience, Action.send_to_public)


def _on_draft(draft: Draft) -> Subject:
    return Subject(incident_id=draft.incident_id, draft=draft)


def create(actor: Actor, request: drafting.DraftRequest, *, template_roots: list[Path] | None = None) -> dict[str, Any]:
    with acting(actor), session_scope() as session:
        authorize(session, Action.draft, actor, Subject(incident_id=request.incident_id))
        drafted = drafting.create_draft(session, request, actor=actor.handle, template_roots=template_roots)
        data = draft_dict(drafted.draft)
        data["locale_reason"] = drafted.locale_reason
    return data


def edit(
    actor: Actor,
    draft_id: int,
    *,
    subject: str | None = None,
    text: str | None = None,
    html: str | None = None,
    inputs: dict[str, Any] | None = None,
    template_roots: list[Path] | None = None,
) -> dict[str, Any]:
    with acting(actor), session_scope() as session:
        draft = drafting.get_draft(session, draft_id)
        authorize(session, Action.edit_draft, actor, _on_draft(draft))
        edited = drafting.edit_draft(
            session,
            draft_id,
            actor=actor.handle,
            subject=subject,
            text=text,
            html=html,
            inputs=inputs,
            template_roots=template_roots,
        )
        return draft_dict(edited)


def submit_for_review(actor: Actor, draft_id: int) -> dict[str, Any]:
    with acting(actor), session_scope() as session:
        draft = drafting.get_draft(session, draft_id)
        authorize(session, Action.submit_for_review, actor, _on_draft(draft))
        record = drafting.submit_for_review(session, draft_id, actor=actor.handle)
        queue_review_cards(session, record, requested_by=actor.handle)  # legal's card: Slack DM, else the outbox
        data = draft_dict(record, content=False)
        data["reviewers"] = [p.handle for p in people_with_role(session, record.incident_id, Role.legal)]
        return data


def approve(
    actor: Actor, draft_id: int, *, sha256: str | None, comment: str | None = None, waker: Waker = wake_now
) -> dict[str, Any]:
    """Approve exactly the content whose SHA-256 (or its first 12+ characters) the reviewer names."""
    with acting(actor), session_scope() as session:
        draft = drafting.get_draft(session, draft_id)
        authorize(session, Action.approve, actor, _on_draft(draft))
        approvals.check_reviewed_hash(session, draft, sha256)  # a typo is named as such, before any change
        record = approvals.approve(session, draft_id, approver=actor.handle, expected_sha256=sha256, comment=comment)
        data = {"draft": f"D-{draft_id}", "incident": f"INC-{draft.incident_id}", **approval_dict(record)}
        incident_id = draft.incident_id
    waker(incident_id)
    return data


def reject(actor: Actor, draft_id: int, *, comment: str, waker: Waker = wake_now) -> dict[str, Any]:
    if not comment or not comment.strip():
        raise InvalidInput("a rejection needs a comment saying what must change (--comment)", where="comment")
    with acting(actor), session_scope() as session:
        draft = drafting.get_draft(session, draft_id)
        authorize(session, Action.reject, actor, _on_draft(draft))
        record = approvals.reject(session, draft_id, approver=actor.handle, comment=comment)
        data = {"draft": f"D-{draft_id}", "incident": f"INC-{draft.incident_id}", **approval_dict(record)}
        incident_id = draft.incident_id
    waker(incident_id)
    return data


def mark_sent(actor: Actor, draft_id: int, *, reference: str | None = None, waker: Waker = wake_now) -> dict[str, Any]:
    """Record that the approved content went out by other means (e.g. a regulator's portal): customer and public
    notices by comms or the commander, regulator filings by legal, the DPO or the commander."""
    with acting(actor), session_scope() as session:
        draft = drafting.get_draft(session, draft_id)
        authorize(session, send_action(draft), actor, _on_draft(draft))
        record = approvals.mark_sent(session, draft_id, actor=actor.handle, reference=reference)
        data = draft_dict(record, content=False)
        incident_id = record.incident_id
    waker(incident_id)
    return data
