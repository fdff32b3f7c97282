"""The simulated legal team and drafters of a drill: review drafts as the scenario says (approve or
reject with a comment, after a delay), and revise rejected drafts, through the drafts' actions (the
policy's four-eyes rule holds: the reviewer approves the exact SHA-256 they were shown, and never a
text they wrote)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select
from tocsin.flows.drill_setup import member
from tocsin.flows.scenario import Review
from tocsin.models import DraftStatus, Role
from tocsin.models.playbook_run import PlaybookRun, PlaybookStepState
from tocsin.playbooks.schema import parse_duration

from tocsin.core.wakeup import wake_nothing
from tocsin.db.engine import session_scope
from tocsin.drafts import actions as draft_actions
from tocsin.drafts.approvals import decisions_of
from tocsin.drafts.drafting import get_draft

if TYPE_CHECKING:
    from tocsin.flows.drill_people import SimulatedTeam

DEFAULT_REVIEW = "1h"


def _drafts_by_step(session: Session, incident_id: int) -> dict[int, str]:
    """draft id → the playbook step that drafted it."""
    found: dict[int, str] = {}
    runs = session.exec(select(PlaybookRun.id).where(PlaybookRun.incident_id == incident_id))
    for run_id in runs:
        for state in session.exec(select(PlaybookStepState).where(PlaybookStepState.run_id == run_id)):
            for draft_id in (state.result.get("drafts") or {}).values():
                found[int(draft_id)] = state.step_id
    return found


def observe(team: SimulatedTeam, now: datetime) -> None:
    with session_scope() as session:
        for draft_id in _drafts_by_step(session, team.incident_id):
            draft = get_draft(session, draft_id)
            if draft.status == DraftStatus.in_review:
                team.review_started.setdefault((draft_id, draft.content_sha256), now)
            elif draft.status == DraftStatus.rejected:
                team.rejected_at.setdefault(draft_id, now)


def _review_for(team: SimulatedTeam, step_id: str, number: int) -> Review:
    reviews = team.behaviour.reviews.get(step_id, [])
    if number < len(reviews):
        return reviews[number]
    legal = next((m.handle for m in team.scenario.people if m.role == Role.legal), team.scenario.people[0].handle)
    return Review(by=legal, decision="approve", after=DEFAULT_REVIEW)


def pending(team: SimulatedTeam, now: datetime) -> list[tuple[datetime, str, tuple[Any, ...]]]:
    actions: list[tuple[datetime, str, tuple[Any, ...]]] = []
    with session_scope() as session:
        for draft_id, step_id in _drafts_by_step(session, team.incident_id).items():
            draft = get_draft(session, draft_id)
            if draft.status == DraftStatus.in_review:
                started = team.review_started.get((draft_id, draft.content_sha256))
                if started is None:
                    continue
                review = _review_for(team, step_id, len(decisions_of(session, draft_id)))
                actions.append((started + parse_duration(review.after), "review", (draft_id, step_id)))
            elif draft.status in (DraftStatus.rejected, DraftStatus.edited):
                rejected = team.rejected_at.get(draft_id, now)
                actions.append((rejected + parse_duration(team.behaviour.revise_after), "revise", (draft_id, step_id)))
    return actions


def act(team: SimulatedTeam, kind: str, details: tuple[Any, ...], now: datetime) -> None:
    draft_id, step_id = details
    with session_scope() as session:
        draft = get_draft(session, draft_id)
        decisions = decisions_of(session, draft_id)
    if kind == "review":
        review = _review_for(team, step_id, len(decisions))
        reviewer = member(review.by)
        if review.decision == "approve":
            draft_actions.approve(reviewer, draft_id, sha256=draft.content_sha256, waker=wake_nothing)
        else:
            draft_actions.reject(reviewer, draft_id, comment=review.comment or "Please revise.", waker=wake_nothing)
        return
    drafter = member(draft.drafted_by)
    if draft.status == DraftStatus.rejected:
        changes = team.behaviour.revisions.get(step_id)
        if changes:
            draft_actions.edit(drafter, draft_id, inputs=dict(changes))
        else:
            comment = decisions[-1].comment or ""
            draft_actions.edit(drafter, draft_id, text=draft.text + f"\n\n(Revised: {comment})")
    draft_actions.submit_for_review(drafter, draft_id)
    team.rejected_at.pop(draft_id, None)
