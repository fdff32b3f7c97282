"""Fixtures for notice waves: an incident with legal, approved email drafts (through the real drafts
service), recipient files, and the SendGrid fake."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # makes `tests.fakes` importable
    sys.path.insert(0, str(REPO_ROOT))

from tests.fakes import FakeSendGrid  # noqa: E402

CUSTOMER_INPUTS: dict[str, Any] = {
    "nature_of_breach": "Someone used a stolen staff password to copy part of our customer database.",
    "categories_of_data": ["your name", "your email address"],
    "likely_consequences": "You may receive fake emails that mention a real order.",
    "measures_taken": "We locked the misused account and changed every staff password.",
    "what_you_can_do": "Do not click links in emails about orders; we never ask for your password.",
    "organisation": "Boutique Lumière",
    "contact_name": "Claire Martin, Data Protection Officer",
    "contact_email": "dpo@example.org",
}
SUBJECT = "About your account, -name-"
TEXT = "Dear -first_name-,\n\nWe are writing about a well-known-issue that affects your data.\n"
HTML = "<p>Dear -first_name-,</p><p>We are writing about your data.</p>"


@pytest.fixture
def fake_sendgrid() -> Iterator[FakeSendGrid]:
    with FakeSendGrid() as fake:
        yield fake


def declare_incident(locale: str = "en") -> int:
    """alice commands; lena is legal (approves), bob drafts, carl is comms (sends the wave, suppresses)."""
    from tocsin.models import IncidentKind, Severity

    from tocsin.core.clocks import utcnow
    from tocsin.db.engine import session_scope
    from tocsin.incidents.service import Declaration, assign, declare
    from tocsin.people.directory import upsert_person

    with session_scope() as session:
        for handle in ("alice", "lena", "bob", "carl"):
            upsert_person(session, handle)
        incident = declare(
            session,
            Declaration(
                kind=IncidentKind.breach,
                title="Customer DB exposed",
                severity=Severity.SEV1,
                aware_at=utcnow(),
                commander="alice",
                facts={},
                locale=locale,
            ),
            actor="alice",
        )
        assign(session, incident.id or 0, "legal", "lena", actor="alice")
        assign(session, incident.id or 0, "comms", "carl", actor="alice")
        return incident.id or 0


def draft_for(
    incident_id: int,
    *,
    locale: str = "en",
    subject: str = SUBJECT,
    text: str = TEXT,
    html: str | None = HTML,
    approve: bool = True,
) -> int:
    """A customer-notice draft edited to this exact content, sent to review and (by default) approved."""
    from tocsin.db.engine import session_scope
    from tocsin.drafts import approvals as approvals
    from tocsin.drafts.drafting import DraftRequest, create_draft, edit_draft, submit_for_review

    with session_scope() as session:
        drafted = create_draft(
            session,
            DraftRequest(incident_id, "customer_notice", inputs=dict(CUSTOMER_INPUTS), locale=locale),
            actor="bob",
        )
        draft_id = drafted.draft.id or 0
        edit_draft(session, draft_id, actor="bob", subject=subject, text=text, html=html or "")
        submit_for_review(session, draft_id, actor="bob")
        if approve:
            approvals.approve(session, draft_id, approver="lena")
    return draft_id


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    import csv

    columns = columns or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def people(count: int, start: int = 0) -> list[dict[str, str]]:
    return [
        {"email": f"Person{n}@Example.com", "name": f"Person {n}", "first_name": f"P{n}", "locale": "en"}
        for n in range(start, start + count)
    ]


@pytest.fixture
def wave_db(tocsin_db: str) -> str:
    """The database under test (SQLite and PostgreSQL), migrated to the newest schema."""
    from tocsin.db.engine import current_engine

    current_engine()
    return tocsin_db
