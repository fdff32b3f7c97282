"""Legal's decisions on drafts, and the gate every send goes through.

- Only a person holding the legal role on the incident decides, and never on content they wrote
  (four-eyes). A refused attempt is committed to the timeline on its own, then refused.
- A decision is bound to the SHA-256 of the exact content and to the template version.
- `assert_sendable` lets a draft through only if its stored content still hashes to its
  `content_sha256` and the latest decision is an approval of that hash and revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import iso_utc, utcnow
from tocsin.core.errors import Conflict, Forbidden, InvalidInput
from tocsin.drafts.drafting import get_draft, revisions_of, stored_content_hash
from tocsin.incidents.service import get_incident, people_with_role
from tocsin.models import Approval, Draft, DraftStatus, Role


def decisions_of(session: Session, draft_id: int) -> list[Approval]:
    statement = select(Approval).where(Approval.draft_id == draft_id).order_by(col(Approval.id))
    return list(session.exec(statement))


def latest_decision(session: Session, draft_id: int) -> Approval | None:
    statement = select(Approval).where(Approval.draft_id == draft_id).order_by(col(Approval.id).desc()).limit(1)
    return session.exec(statement).first()


def _refusal_reason(session: Session, draft: Draft, person: str, decision: str) -> str | None:
    legal = {p.handle for p in people_with_role(session, draft.incident_id, Role.legal)}
    if person not in legal:
        holders = ", ".join(sorted(legal)) or "nobody yet"
        return (
            f"{person} does not hold the legal role on INC-{draft.incident_id} and cannot {decision} "
            f"{draft.ref} (legal: {holders})"
        )
    if decision == "approve":
        authors = {draft.drafted_by} | {r.created_by for r in revisions_of(session, draft.id or 0)}
        if person in authors:
            return f"{person} wrote {draft.ref} (or a revision of it) and cannot approve it: four-eyes rule"
    return None


def refusal_for(session: Session, draft: Draft, person: str, decision: str) -> str | None:
    """Why `person` may not `decision` ("approve" or "reject") this draft, or None if they may (for pages
    that offer the buttons only to those who may press them; the decision itself checks again)."""
    return _refusal_reason(session, draft, person, decision)


def _refuse(session: Session, draft: Draft, *, person: str, decision: str, reason: str) -> Forbidden:
    """Commit the refused attempt on its own, so it stays on the timeline when the action fails.

    The caller's transaction ends here (rolled back): whatever else it held would be rolled back
    anyway when the refusal propagates, and leaving it open could block this write.
    """
    draft_id, incident_id, sha, revision = draft.id or 0, draft.incident_id, draft.content_sha256, draft.revision
    session.rollback()
    incident = get_incident(session, incident_id)
    append_event(
        session,
        incident,
        actor=person,
        action="draft.approval_refused",
        payload={
            "draft": f"D-{draft_id}",
            "attempted": decision,
            "revision": revision,
            "sha256": sha,
            "reason": reason,
        },
    )
    session.commit()
    return Forbidden(reason)


def _decide(
    session: Session, draft_id: int, *, person: str, decision: str, comment: str | None, expected_sha256: str | None
) -> Approval:
    draft = get_draft(session, draft_id)
    if draft.status != DraftStatus.in_review.value:
        hint = " (send it to review with `tocsin review`)" if draft.status in ("drafted", "edited") else ""
        raise InvalidInput(f"{draft.ref} is {draft.status}, not in review{hint}")
    if expected_sha256 and not draft.content_sha256.startswith(expected_sha256.strip().lower()):
        raise Conflict(
            f"{draft.ref} changed since you reviewed it: its content hash is now {draft.content_sha256[:12]}, "
            f"not {expected_sha256[:12]}; review it again"
        )
    reason = _refusal_reason(session, draft, person, decision)
    if reason is not None:
        raise _refuse(session, draft, person=person, decision=decision, reason=reason)
    if stored_content_hash(draft) != draft.content_sha256:
        raise Forbidden(f"{draft.ref}: the stored content does not match its hash (changed outside Tocsin)")
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
    draft.status = DraftStatus.approved.value if decision == "approve" else DraftStatus.rejected.value
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
        },
    )
    return record


def approve(
    session: Session, draft_id: int, *, approver: str, expected_sha256: str | None = None, comment: str | None = None
) -> Approval:
    """Approve the draft's current content. `expected_sha256` (or a prefix) guards against approving
    content that changed after the approver read it."""
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
    if draft.status != DraftStatus.approved.value:
        return Forbidden, f"{draft.ref} is {draft.status}, not approved"
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
