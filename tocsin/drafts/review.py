"""What a reviewer sees: a draft's content exactly as stored (what the senders send), its decision, its
revisions and the diff to the previous revision; and the queue of drafts waiting for legal.

One view for `tocsin draft show`, `GET /api/drafts/{id}` and the console's review page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from tocsin.core.acting import Actor
from tocsin.core.errors import NotFound
from tocsin.drafts.approvals import decision_of, decisions_of, refusal_for
from tocsin.drafts.drafting import get_draft, revisions_of
from tocsin.drafts.views import approval_dict, draft_dict, revision_dict, revision_diff
from tocsin.incidents.service import roles_by_incident
from tocsin.models import Draft, DraftStatus, Incident, Role
from tocsin.wave.plan import content_tags

PARTS = ("subject", "text", "html")


def review_data(session: Session, draft_id: int, revision: int | None = None) -> dict[str, Any]:
    """The draft (content of `revision`, default the current one), its decision and history, and the diff of
    each part against the revision before it (`diff` is empty for the first revision)."""
    record = get_draft(session, draft_id)
    revisions = revisions_of(session, draft_id)
    number = revision if revision is not None else record.revision
    index = next((i for i, r in enumerate(revisions) if r.number == number), None)
    if index is None:
        raise NotFound(f"{record.ref} has no revision {number} (it has 1 to {record.revision})")
    shown, previous = revisions[index], revisions[index - 1] if index > 0 else None
    data = draft_dict(record)
    data.update(subject=shown.subject, text=shown.text, html=shown.html, shown_revision=shown.number)
    data["shown_sha256"] = shown.content_sha256
    # Filled per recipient by a notice wave (see wave_plan); everything else goes out byte for byte.
    data["substitution_tags"] = list(content_tags(shown.subject, shown.text, shown.html))
    data["decision"] = decision_of(session, draft_id).as_dict()
    data["decisions"] = [approval_dict(a) for a in decisions_of(session, draft_id)]
    data["revisions"] = [revision_dict(r) for r in revisions]
    data["diff"] = {p: revision_diff(previous, shown, p) for p in PARTS} if previous else {}
    return data


@dataclass(frozen=True)
class QueuedDraft:
    """A draft waiting for legal's decision, and where the viewer stands on it."""

    draft: Draft
    incident: Incident
    legal: tuple[str, ...]  # handles holding the legal role on the incident
    approve_refusal: str | None  # why the viewer may not approve it (None: they may)
    reject_refusal: str | None

    @property
    def viewer_decides(self) -> bool:
        return self.approve_refusal is None


def review_queue(session: Session, viewer: Actor) -> list[QueuedDraft]:
    """Every draft in review across incidents: those `viewer` may approve first (as the policy says, asked
    without recording anything), then oldest waiting first."""
    rows = list(
        session.exec(
            select(Draft, Incident)
            .join(Incident, col(Incident.id) == Draft.incident_id)
            .where(Draft.status == DraftStatus.in_review.value)
            .order_by(col(Draft.updated_at), col(Draft.id))
        )
    )
    roles = roles_by_incident(session, sorted({incident.id or 0 for _, incident in rows}))
    queue = [
        QueuedDraft(
            draft=draft,
            incident=incident,
            legal=tuple(p.handle for role, p in roles[incident.id or 0] if role == Role.legal.value),
            approve_refusal=refusal_for(session, draft, viewer, "approve"),
            reject_refusal=refusal_for(session, draft, viewer, "reject"),
        )
        for draft, incident in rows
    ]
    return sorted(queue, key=lambda q: not q.viewer_decides)  # stable: keeps the oldest-first order within
