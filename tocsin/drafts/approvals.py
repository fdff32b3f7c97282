"""Legal's decisions on drafts, and the gate every send goes through.

- Who decides is the policy's (`tocsin.policy`: legal on the incident, never on content they wrote), asked by
  the actions in `tocsin.drafts.actions`, which every door calls.
- A decision is bound to the SHA-256 of the exact content and to the template version.
- `assert_sendable` lets a draft through only if its stored content still hashes to its
  `content_sha256`, the latest decision is an approval of that hash and revision, and the keyed audit
  timeline records those approvals of that hash (`tocsin.drafts.chained_approval`): every send path
  (`mark_sent`, playbook `send` steps, notice waves) goes through `send_refusal`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.acting import Actor
from tocsin.core.clocks import iso_utc, utcnow
from tocsin.core.errors import Conflict, Forbidden, InvalidInput
from tocsin.drafts.chained_approval import chained_approval_refusal
from tocsin.drafts.drafting import get_draft, revisions_of, stored_content_hash
from tocsin.incidents.service import get_incident
from tocsin.models import Approval, Draft, DraftStatus
from tocsin.people.authorize import Subject, refusal
from tocsin.policy import Action


def decisions_of(session: Session, draft_id: int) -> list[Approval]:
    statement = select(Approval).where(Approval.draft_id == draft_id).order_by(col(Approval.id))
    return list(session.exec(statement))


def latest_decision(session: Session, draft_id: int) -> Approval | None:
    statement = select(Approval).where(Approval.draft_id == draft_id).order_by(col(Approval.id).desc()).limit(1)
    return session.exec(statement).first()


def approvers_of_current(session: Session, draft: Draft) -> list[str]:
    """Distinct people who approved the draft's current content (this revision, this hash), first first."""
    seen: list[str] = []
    for decision in decisions_of(session, draft.id or 0):
        current = decision.revision == draft.revision and decision.content_sha256 == draft.content_sha256
        if current and decision.decision == "approved" and decision.approver not in seen:
            seen.append(decision.approver)
    return seen


def refusal_for(session: Session, draft: Draft, actor: Actor, decision: str) -> str | None:
    """Why `actor` may not `decision` ("approve" or "reject") this draft, or None if they may (for pages that
    offer the buttons only to those who may press them; the action itself asks the policy again)."""
    action = Action.approve if decision == "approve" else Action.reject
    return refusal(session, action, actor, Subject(incident_id=draft.incident_id, draft=draft))


SHA256_PREFIX = re.compile(r"[0-9a-f]{12,64}")


def check_reviewed_hash(session: Session, draft: Draft, given: str | None) -> None:
    """The hash the reviewer names must be the current content's. A hash of an earlier revision means the text
    changed since they read it (Conflict); anything else is a typo or not a hash at all (InvalidInput)."""
    text = (given or "").strip().lower()
    if not text:
        raise InvalidInput(
            f"an approval names the sha256 of the text you reviewed (at least its first 12 characters; "
            f"`tocsin draft show {draft.id}` prints it)",
            where="sha256",
        )
    if not SHA256_PREFIX.fullmatch(text):
        raise InvalidInput(f"{given!r} is not a sha256: give 12 to 64 hexadecimal characters", where="sha256")
    if draft.content_sha256.startswith(text):
        return
    earlier = [r for r in revisions_of(session, draft.id or 0) if r.content_sha256.startswith(text)]
    if earlier:
        raise Conflict(
            f"{draft.ref} changed since you reviewed it: you reviewed revision {earlier[-1].number} "
            f"({text[:12]}), it is now revision {draft.revision} (sha256 {draft.content_sha256[:12]}); "
            "review it again"
        )
    raise InvalidInput(
        f"{text[:12]} is not the hash of any revision of {draft.ref}: mistyped? "
        f"(`tocsin draft show {draft.id}` prints the hash of what you review)",
        where="sha256",
    )


def _decide(
    session: Session, draft_id: int, *, person: str, decision: str, comment: str | None, expected_sha256: str | None
) -> Approval:
    draft = get_draft(session, draft_id)
    if draft.status != DraftStatus.in_review.value:
        hint = " (send it to review with `tocsin review`)" if draft.status in ("drafted", "edited") else ""
        raise InvalidInput(f"{draft.ref} is {draft.status}, not in review{hint}")
    if expected_sha256 is not None:
        check_reviewed_hash(session, draft, expected_sha256)
    if stored_content_hash(draft) != draft.content_sha256:
        raise Forbidden(f"{draft.ref}: the stored content does not match its hash (changed outside Tocsin)")
    approvers = approvers_of_current(session, draft)
    if decision == "approve" and person in approvers:
        raise InvalidInput(
            f"{person} already approved revision {draft.revision} of {draft.ref}; "
            f"it needs {draft.approvals_required} different approvers"
        )
    now = utcnow()
    record = Approval(
        draft_id=draft.id or 0,
        revision=draft.revision,
        content_sha256=draft.content_sha256,
        template_version=draft.template_version,
        approver=person,
        decided_at=now,
        decision="approved" if decision == "approve" else "rejected",
        comment=comment,
    )
    count = len(approvers) + 1
    if decision == "approve":  # with two approvers required, the first leaves it in review for the second
        draft.status = (DraftStatus.approved if count >= draft.approvals_required else DraftStatus.in_review).value
    else:
        draft.status = DraftStatus.rejected.value
    draft.updated_at = now
    session.add(record)
    session.add(draft)
    append_event(
        session,
        get_incident(session, draft.incident_id),
        actor=person,
        action=f"draft.{record.decision}",
        payload={
            "draft": draft.ref,
            "revision": draft.revision,
            "sha256": draft.content_sha256,
            "template": draft.template,
            "template_version": draft.template_version,
            "comment": comment,
            **({"approvals": f"{count} of {draft.approvals_required}"} if decision == "approve" else {}),
        },
    )
    return record


def approve(
    session: Session, draft_id: int, *, approver: str, expected_sha256: str | None = None, comment: str | None = None
) -> Approval:
    """Record an approval of the draft's current content (who may is the action's question:
    `tocsin.drafts.actions.approve`, which also insists on the reviewed hash)."""
    return _decide(
        session, draft_id, person=approver, decision="approve", comment=comment, expected_sha256=expected_sha256
    )


def reject(session: Session, draft_id: int, *, approver: str, comment: str) -> Approval:
    if not comment or not comment.strip():
        raise InvalidInput("a rejection needs a comment saying what must change (--comment)")
    return _decide(session, draft_id, person=approver, decision="reject", comment=comment.strip(), expected_sha256=None)


def send_refusal(session: Session, draft: Draft) -> tuple[type[Exception], str] | None:
    """Why this draft may not be sent now, or None if it may."""
    if draft.status == DraftStatus.sent.value:
        when = iso_utc(draft.sent_at) if draft.sent_at else "?"
        return Conflict, f"{draft.ref} was already sent ({when} by {draft.sent_by})"
    if stored_content_hash(draft) != draft.content_sha256:
        return Forbidden, (
            f"{draft.ref}: the stored content does not match its recorded hash (changed outside Tocsin); "
            "refusing to send"
        )
    decision = latest_decision(session, draft.id or 0)
    if decision is None:
        return Forbidden, f"{draft.ref} has not been approved by legal (status: {draft.status})"
    if decision.decision != "approved":
        return Forbidden, f"{draft.ref} was rejected by {decision.approver}: {decision.comment}"
    if decision.content_sha256 != draft.content_sha256 or decision.revision != draft.revision:
        return Forbidden, (
            f"{draft.ref} was edited after approval: {decision.approver} approved revision {decision.revision} "
            f"(sha256 {decision.content_sha256[:12]}), the current content is revision {draft.revision} "
            f"(sha256 {draft.content_sha256[:12]}); it needs a new approval"
        )
    approvers = approvers_of_current(session, draft)
    if len(approvers) < draft.approvals_required:
        return Forbidden, (
            f"{draft.ref} needs {draft.approvals_required} approvals of its current content and has "
            f"{len(approvers)} ({', '.join(approvers) or 'none'})"
        )
    if draft.status != DraftStatus.approved.value:
        return Forbidden, f"{draft.ref} is {draft.status}, not approved"
    if (unbacked := chained_approval_refusal(session, draft)) is not None:  # rows can be forged; the chain cannot
        return Forbidden, unbacked
    return None


def assert_sendable(session: Session, draft_id: int) -> Draft:
    """The draft, if its current content hash carries an approval that nothing superseded; else raise."""
    draft = get_draft(session, draft_id)
    refusal = send_refusal(session, draft)
    if refusal is not None:
        error, reason = refusal
        raise error(reason)
    return draft


def mark_sent(session: Session, draft_id: int, *, actor: str, reference: str | None = None) -> Draft:
    """Record that the approved content went out (by Tocsin's senders or, e.g., a regulator's portal)."""
    draft = assert_sendable(session, draft_id)
    now = utcnow()
    draft.status = DraftStatus.sent.value
    draft.sent_at, draft.sent_by, draft.sent_reference = now, actor, reference
    draft.updated_at = now
    session.add(draft)
    append_event(
        session,
        get_incident(session, draft.incident_id),
        actor=actor,
        action="draft.sent",
        payload={
            "draft": draft.ref,
            "revision": draft.revision,
            "sha256": draft.content_sha256,
            "reference": reference,
        },
    )
    return draft


@dataclass(frozen=True)
class DraftDecision:
    """Where legal stands on a draft: what a playbook's approval step polls instead of waiting in-process."""

    draft_id: int
    status: str
    decision: str | None  # approved | rejected | None (no decision yet)
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None
    decided_sha256: str | None
    current: bool  # the decision is on the draft's current content
    sendable: bool
    reason: str | None  # why it cannot be sent, if it cannot

    def as_dict(self) -> dict[str, Any]:
        return {
            "draft": f"D-{self.draft_id}",
            "status": self.status,
            "decision": self.decision,
            "decided_by": self.decided_by,
            "decided_at": iso_utc(self.decided_at) if self.decided_at else None,
            "comment": self.comment,
            "decided_sha256": self.decided_sha256,
            "current": self.current,
            "sendable": self.sendable,
            "reason": self.reason,
        }


def decision_of(session: Session, draft_id: int) -> DraftDecision:
    draft = get_draft(session, draft_id)
    latest = latest_decision(session, draft_id)
    refusal = send_refusal(session, draft)
    current = latest is not None and latest.content_sha256 == draft.content_sha256 and latest.revision == draft.revision
    return DraftDecision(
        draft_id=draft_id,
        status=draft.status,
        decision=latest.decision if latest else None,
        decided_by=latest.approver if latest else None,
        decided_at=latest.decided_at if latest else None,
        comment=latest.comment if latest else None,
        decided_sha256=latest.content_sha256 if latest else None,
        current=current,
        sendable=refusal is None,
        reason=refusal[1] if refusal else None,
    )
