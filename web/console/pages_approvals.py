"""Legal's console pages: the approval queue, and a draft's review page with approve / reject.

The review page shows the draft's stored content, which is what the senders send byte for byte (a notice
wave fills only the `-tag-` substitutions written in it). The approve form carries the SHA-256 of the
content on the page, and the approve action (`tocsin.drafts.actions.approve`) is given it: it refuses (409) if
the draft changed since, so an approval always covers exactly what the reviewer read. Only legal on the
incident, and not an author, may decide (the policy): the page offers the buttons only to them, and the
actions refuse anyone else (403, on the timeline as `draft.approval_refused` / `draft.rejection_refused`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData
from tocsin.models import DraftStatus, Role
from tocsin.web.background import later
from tocsin.web.console import filters_extra
from tocsin.web.console.pages_incidents import text
from tocsin.web.console.render import page
from tocsin.web.console.session import Viewer, checked_form, flash, viewer

from tocsin.core.clocks import parse_instant, utcnow
from tocsin.core.errors import Conflict, InvalidInput, NotFound
from tocsin.core.ids import parse_draft_id
from tocsin.db.engine import session_scope
from tocsin.drafts import actions
from tocsin.drafts.approvals import refusal_for
from tocsin.drafts.drafting import get_draft
from tocsin.drafts.review import review_data, review_queue
from tocsin.incidents.overview import incident_lines
from tocsin.incidents.service import get_incident, people_with_role
from tocsin.wave.run import wave_status

router = APIRouter()
LoggedIn = Annotated[Viewer, Depends(viewer)]
CheckedForm = Annotated[FormData, Depends(checked_form)]
SHA256 = re.compile(r"[0-9a-f]{64}")
BLOCK = re.compile(r"<(?:p|br|li|h[1-6]|tr|div|hr|table|ul|ol|blockquote|pre)\b", re.I)
TAG = re.compile(r"<[^>]*>")
# The HTML body alone: a document with no origin (sandbox), no scripts, no forms, no remote loads, not framable.
HTML_ALONE_HEADERS = {
    "Content-Security-Policy": (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
        "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
filters_extra.install()


def frame_rem(html: str) -> int:
    """A generous height (rem) for the sandboxed preview of `html`: a sandboxed frame cannot be measured from
    the page, so estimate from its blocks and text (about 70 characters a line), between 20 and 600 rem."""
    text = " ".join(TAG.sub(" ", html).split())
    lines = len(BLOCK.findall(html)) + len(text) / 70
    return max(20, min(600, int(lines * 1.6) + 4))


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """A unified diff as (kind, line) for display: kind is add, remove, hunk, file or same."""
    kinds = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            kinds.append(("file", line))
        elif line.startswith("@@"):
            kinds.append(("hunk", line))
        elif line.startswith("+"):
            kinds.append(("add", line))
        elif line.startswith("-"):
            kinds.append(("remove", line))
        else:
            kinds.append(("same", line))
    return kinds


@router.get("/approvals")
def approvals(request: Request, who: LoggedIn) -> Response:
    with session_scope() as session:
        queue = review_queue(session, who.actor)
        mine = sum(1 for q in queue if q.viewer_decides)
        wanted = {q.incident.id for q in queue}
        # The nearest open deadline of each incident in the queue (the same line as the incident list's).
        nearest = {
            line.incident.id: line for line in incident_lines(session, now=utcnow()) if line.incident.id in wanted
        }
    return page(request, "approvals.html", {"queue": queue, "mine": mine, "nearest": nearest, "nav": "approvals"})


def _draft_context(draft_id: int, who: Viewer, revision: int | None) -> dict[str, Any]:
    with session_scope() as session:
        data = review_data(session, draft_id, revision)
        for item, key in [(r, "created_at") for r in data["revisions"]] + [(a, "at") for a in data["decisions"]]:
            item["moment"] = parse_instant(item[key])  # shown in the viewer's zone
        record = get_draft(session, draft_id)
        incident = get_incident(session, record.incident_id)
        decidable = data["shown_revision"] == data["revision"] and data["status"] == DraftStatus.in_review.value
        decided = data["decision"]["decided_at"]
        return {
            "draft": data,
            "decided_at": parse_instant(decided) if decided else None,
            "sent_at": record.sent_at,
            "waves": [w for w in wave_status(session, incident.id or 0) if draft_id in w.draft_ids],
            "frame_rem": frame_rem(data["html"] or ""),
            "incident": incident,
            "legal": [p.handle for p in people_with_role(session, incident.id or 0, Role.legal)],
            "decidable": decidable,
            "approve_refusal": refusal_for(session, record, who.actor, "approve"),
            "reject_refusal": refusal_for(session, record, who.actor, "reject"),
            "diffs": {part: diff_lines(diff) for part, diff in data["diff"].items() if diff},
            "nav": "approvals",
        }


@router.get("/drafts/{draft}")
def draft_page(request: Request, draft: str, who: LoggedIn, revision: int | None = None) -> Response:
    return page(request, "draft.html", _draft_context(parse_draft_id(draft), who, revision))


@router.get("/drafts/{draft}/html")
def draft_html_alone(draft: str, who: LoggedIn, revision: int | None = None) -> Response:
    """The HTML body of a revision, byte for byte, as a page of its own (to read it whole, outside any frame),
    under a CSP `sandbox` that gives it no origin, no scripts, no forms and no remote loads."""
    with session_scope() as session:
        data = review_data(session, parse_draft_id(draft), revision)
    if not data["html"]:
        raise NotFound(f"{data['ref']} revision {data['shown_revision']} has no HTML body")
    return Response(data["html"], media_type="text/html; charset=utf-8", headers=HTML_ALONE_HEADERS)


@router.post("/drafts/{draft}/approve")
def approve(request: Request, draft: str, who: LoggedIn, form: CheckedForm, tasks: BackgroundTasks) -> Response:
    """`tocsin approve DRAFT --hash SHA256` as the viewer: refused (409) if the content is not the one shown."""
    draft_id = parse_draft_id(draft)
    back = RedirectResponse(f"/drafts/{draft_id}", status_code=303)
    seen = text(form, "sha256").lower()
    if not SHA256.fullmatch(seen):
        raise InvalidInput("the approval form must carry the SHA-256 of the content you reviewed; reload the draft")
    try:
        decision = actions.approve(
            who.actor, draft_id, sha256=seen, comment=text(form, "comment") or None, waker=later(tasks)
        )
    except (Conflict, InvalidInput) as error:  # changed since it was shown, or no longer in review: show it again
        flash(request, str(error), "error")
        return back
    message = f"D-{draft_id} approved (revision {decision['revision']}, sha256 {decision['sha256'][:12]})."
    flash(request, message + " Only this exact content may be sent.")
    return back


@router.post("/drafts/{draft}/reject")
def reject(request: Request, draft: str, who: LoggedIn, form: CheckedForm, tasks: BackgroundTasks) -> Response:
    """`tocsin reject DRAFT --comment TEXT` as the viewer."""
    draft_id = parse_draft_id(draft)
    back = RedirectResponse(f"/drafts/{draft_id}", status_code=303)
    try:
        decision = actions.reject(who.actor, draft_id, comment=text(form, "comment"), waker=later(tasks))
    except InvalidInput as error:  # no comment, or no longer in review
        flash(request, str(error), "error")
        return back
    flash(request, f"D-{draft_id} rejected (revision {decision['revision']}): {decision['comment']}")
    return back
