"""The draft service: rendering external messages from templates, editing them, and sending them to
review. Legal's decisions and the send gate live in `tocsin.drafts.approvals`.

Every change keeps the previous content as a `DraftRevision` and appends an event to the incident's
timeline in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import utcnow
from tocsin.core.errors import Conflict, InvalidInput, NotFound
from tocsin.incidents.service import get_incident, roles_of
from tocsin.models import Draft, DraftRevision, DraftStatus, Incident, IncidentStatus, Obligation
from tocsin.people.directory import find_person
from tocsin.templates.context import incident_variables
from tocsin.templates.loader import LoadedTemplate, load_template
from tocsin.templates.render import Rendered, choose_locale, content_sha256, prepare_variables, render

# Where an edit leaves a draft: content changed after a decision always needs a new review.
STATUS_AFTER_EDIT = {
    DraftStatus.drafted: DraftStatus.drafted,
    DraftStatus.in_review: DraftStatus.in_review,
    DraftStatus.approved: DraftStatus.in_review,
    DraftStatus.rejected: DraftStatus.edited,
    DraftStatus.edited: DraftStatus.edited,
}
REVIEWABLE = (DraftStatus.drafted, DraftStatus.edited)


def get_draft(session: Session, draft_id: int) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise NotFound(f"no draft D-{draft_id}")
    return draft


def list_drafts(session: Session, incident_id: int) -> list[Draft]:
    get_incident(session, incident_id)
    return list(session.exec(select(Draft).where(Draft.incident_id == incident_id).order_by(col(Draft.id))))


def revisions_of(session: Session, draft_id: int) -> list[DraftRevision]:
    statement = select(DraftRevision).where(DraftRevision.draft_id == draft_id).order_by(col(DraftRevision.number))
    return list(session.exec(statement))


def stored_content_hash(draft: Draft) -> str:
    """The hash recomputed from the stored parts (differs from `content_sha256` if a row was tampered with)."""
    return content_sha256(draft.template, draft.template_version, draft.subject, draft.text, draft.html)


def template_variables(
    session: Session, incident: Incident, loaded: LoadedTemplate, inputs: dict[str, Any]
) -> dict[str, Any]:
    """What the incident provides, overridden by the inputs, checked against the template's manifest."""
    assert incident.id is not None
    deadlines = list(
        session.exec(select(Obligation).where(Obligation.incident_id == incident.id, col(Obligation.active)))
    )
    derived, hints = incident_variables(incident, roles_of(session, incident.id), now=utcnow(), deadlines=deadlines)
    declared = loaded.manifest.variables
    merged = {name: value for name, value in derived.items() if name in declared}
    merged.update(inputs)
    return prepare_variables(loaded.manifest, merged, hints=hints)


@dataclass(frozen=True)
class DraftRequest:
    incident_id: int
    template: str
    inputs: dict[str, Any] = field(default_factory=dict)
    locale: str | None = None
    recipient: str | None = None  # a person handle: their locale picks the language
    approvals_required: int = 1  # distinct legal approvers (a playbook's draft step may ask for two)


@dataclass(frozen=True)
class Drafted:
    draft: Draft
    locale_reason: str


def create_draft(
    session: Session, request: DraftRequest, *, actor: str, template_roots: list[Path] | None = None
) -> Drafted:
    incident = get_incident(session, request.incident_id)
    if incident.status == IncidentStatus.closed.value:
        raise InvalidInput(f"{incident.ref} is closed; no new drafts")
    loaded = load_template(request.template, template_roots)
    recipient_locale = None
    if request.recipient:
        person = find_person(session, request.recipient)
        if person is None:
            raise NotFound(f"no person {request.recipient!r} in the directory")
        recipient_locale = person.locale
    locale, reason = choose_locale(
        loaded.manifest.locales, requested=request.locale, recipient=recipient_locale, incident=incident.locale
    )
    variables = template_variables(session, incident, loaded, request.inputs)
    rendered = render(loaded, locale, variables)
    now = utcnow()
    draft = Draft(
        incident_id=incident.id or 0,
        template=rendered.template,
        template_version=rendered.template_version,
        locale=locale,
        audience=loaded.manifest.audience.value,
        channel=loaded.manifest.channel.value,
        status=DraftStatus.drafted.value,
        variables=dict(request.inputs),
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        content_sha256=rendered.sha256,
        revision=1,
        approvals_required=request.approvals_required,
        drafted_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    _add_revision(session, draft, reason="rendered", variables=variables, actor=actor)
    append_event(
        session,
        incident,
        actor=actor,
        action="draft.created",
        payload={
            **_event_payload(draft),
            "locale_reason": reason,
            "recipient": request.recipient,
            "inputs": sorted(request.inputs),
        },
    )
    return Drafted(draft, reason)


def edit_draft(
    session: Session,
    draft_id: int,
    *,
    actor: str,
    subject: str | None = None,
    text: str | None = None,
    html: str | None = None,
    inputs: dict[str, Any] | None = None,
    template_roots: list[Path] | None = None,
) -> Draft:
    """A new revision: parts edited by hand, or a re-render with changed inputs (not both at once)."""
    draft = get_draft(session, draft_id)
    status = DraftStatus(draft.status)
    if status is DraftStatus.sent:
        raise Conflict(f"{draft.ref} was already sent; draft a follow-up instead")
    by_hand = any(part is not None for part in (subject, text, html))
    if by_hand and inputs:
        raise InvalidInput("give either new content (--file/--subject) or new inputs (--var/--vars), not both")
    if not by_hand and inputs is None:
        raise InvalidInput("nothing to change: give --file, --subject, --var or --vars")
    incident = get_incident(session, draft.incident_id)
    variables: dict[str, Any] = {}
    if by_hand:
        changes = {"subject": subject, "text": text, "html": html}
        for part, value in changes.items():
            if value is not None:
                if part == "subject" and not value.strip():
                    raise InvalidInput("the subject cannot be empty")
                setattr(draft, part, value)
        draft.content_sha256 = stored_content_hash(draft)
        reason = "edited"
    else:
        loaded = load_template(draft.template, template_roots)
        merged_inputs = {**draft.variables, **(inputs or {})}
        variables = template_variables(session, incident, loaded, merged_inputs)
        rendered: Rendered = render(loaded, draft.locale, variables)
        draft.variables = merged_inputs
        draft.template_version = rendered.template_version
        draft.subject, draft.text, draft.html = rendered.subject, rendered.text, rendered.html
        draft.content_sha256 = rendered.sha256
        reason = "re-rendered"
    previous = revisions_of(session, draft.id or 0)[-1]
    if previous.content_sha256 == draft.content_sha256:
        raise InvalidInput(f"{draft.ref}: the new content is identical to revision {previous.number}; nothing saved")
    draft.revision += 1
    draft.status = STATUS_AFTER_EDIT[status].value
    draft.updated_at = utcnow()
    session.add(draft)
    _add_revision(session, draft, reason=reason, variables=variables, actor=actor)
    payload = {**_event_payload(draft), "how": reason, "from_status": status.value}
    if status is DraftStatus.approved:
        payload["why"] = (
            f"content changed after approval: the approval covers revision {previous.number} "
            f"(sha256 {previous.content_sha256[:12]}), not the new content; back to review"
        )
    append_event(session, incident, actor=actor, action="draft.edited", payload=payload)
    return draft


def submit_for_review(session: Session, draft_id: int, *, actor: str) -> Draft:
    draft = get_draft(session, draft_id)
    status = DraftStatus(draft.status)
    if status is DraftStatus.rejected:
        raise InvalidInput(f"{draft.ref} was rejected; edit it (`tocsin draft edit`) before sending it to review again")
    if status not in REVIEWABLE:
        raise InvalidInput(f"{draft.ref} is {status.value}; only a drafted or edited draft goes to review")
    draft.status = DraftStatus.in_review.value
    draft.updated_at = utcnow()
    session.add(draft)
    incident = get_incident(session, draft.incident_id)
    append_event(session, incident, actor=actor, action="draft.submitted", payload=_event_payload(draft))
    return draft


def _add_revision(session: Session, draft: Draft, *, reason: str, variables: dict[str, Any], actor: str) -> None:
    session.add(
        DraftRevision(
            draft_id=draft.id or 0,
            number=draft.revision,
            reason=reason,
            template_version=draft.template_version,
            variables=variables,
            subject=draft.subject,
            text=draft.text,
            html=draft.html,
            content_sha256=draft.content_sha256,
            created_by=actor,
            created_at=utcnow(),
        )
    )


def _event_payload(draft: Draft) -> dict[str, Any]:
    return {
        "draft": draft.ref,
        "template": draft.template,
        "template_version": draft.template_version,
        "locale": draft.locale,
        "revision": draft.revision,
        "sha256": draft.content_sha256,
        "status": draft.status,
    }
