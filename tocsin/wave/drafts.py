"""The one door between a notice wave and the drafts service: only approved content can be sent.

The wave never decides what is approved: `tocsin.drafts.approvals.assert_sendable` does (latest decision is an
approval of the current content hash and revision, content unchanged since). Anything else raises.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from tocsin.core.errors import InvalidInput, TocsinError
from tocsin.wave.plan import SendableContent

ContentSource = Callable[[Session, int, int], SendableContent]


def sendable_content(session: Session, draft_id: int, incident_id: int) -> SendableContent:
    """(subject, text, html, locale, content_sha256) of an approved email draft of this incident."""
    from tocsin.drafts.approvals import assert_sendable

    try:
        draft = assert_sendable(session, draft_id)
    except TocsinError as error:
        raise InvalidInput(f"draft {draft_id} is not approved ({error.message})", where=f"--draft {draft_id}") from None
    if draft.incident_id != incident_id:
        raise InvalidInput(f"draft {draft_id} belongs to INC-{draft.incident_id}, not INC-{incident_id}")
    if draft.channel != "email":
        raise InvalidInput(f"draft {draft_id} is a {draft.channel} draft, not an email")
    return SendableContent(
        subject=draft.subject,
        text=draft.text,
        html=draft.html or None,
        locale=draft.locale,
        content_sha256=draft.content_sha256,
    )
