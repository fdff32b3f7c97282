"""Plain-dict views of drafts for `--json` and the API, and the diff between two revisions."""

from __future__ import annotations

import difflib
from typing import Any

from tocsin.core.clocks import iso_utc
from tocsin.models import Approval, Draft, DraftRevision


def draft_dict(draft: Draft, *, content: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": draft.id,
        "ref": draft.ref,
        "incident": f"INC-{draft.incident_id}",
        "template": draft.template,
        "template_version": draft.template_version,
        "locale": draft.locale,
        "audience": draft.audience,
        "channel": draft.channel,
        "status": draft.status,
        "revision": draft.revision,
        "sha256": draft.content_sha256,
        "drafted_by": draft.drafted_by,
        "created_at": iso_utc(draft.created_at),
        "updated_at": iso_utc(draft.updated_at),
        "sent_at": iso_utc(draft.sent_at),
        "sent_by": draft.sent_by,
        "sent_reference": draft.sent_reference,
        "inputs": draft.variables,
    }
    if content:
        data.update(subject=draft.subject, text=draft.text, html=draft.html)
    return data


def revision_dict(revision: DraftRevision) -> dict[str, Any]:
    return {
        "number": revision.number,
        "reason": revision.reason,
        "template_version": revision.template_version,
        "sha256": revision.content_sha256,
        "created_by": revision.created_by,
        "created_at": iso_utc(revision.created_at),
    }


def approval_dict(approval: Approval) -> dict[str, Any]:
    return {
        "decision": approval.decision,
        "by": approval.approver,
        "at": iso_utc(approval.decided_at),
        "revision": approval.revision,
        "sha256": approval.content_sha256,
        "template_version": approval.template_version,
        "comment": approval.comment,
    }


def revision_diff(older: DraftRevision | None, newer: DraftRevision, part: str = "text") -> str:
    """A unified diff of one part (subject, text or html) between two revisions; empty if unchanged."""
    before = getattr(older, part) if older is not None else ""
    after = getattr(newer, part)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"revision {older.number}/{part}" if older is not None else "(none)",
        tofile=f"revision {newer.number}/{part}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
