"""Where each obligation stands against its deadline (pure).

on-track → due-soon → overdue, or submitted; obligations without a fixed deadline are `open`
(without undue delay: the clock shows time since the trigger, never an invented deadline) or
`pending` (a chained report waiting for the report before it); one the facts no longer trigger is
`withdrawn`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tocsin.core.clocks import iso_utc

if TYPE_CHECKING:
    from tocsin.models import Obligation

DUE_SOON_WITHIN = timedelta(hours=24)


class Standing(StrEnum):
    on_track = "on-track"
    due_soon = "due-soon"
    overdue = "overdue"
    submitted = "submitted"
    open = "open"
    pending = "pending"
    retention = "retention"
    withdrawn = "withdrawn"  # no longer owed: the facts stopped triggering it (`Obligation.active` is false)


@dataclass(frozen=True)
class Countdown:
    standing: Standing
    time_left: timedelta | None
    # For a submission: how early (positive) or late (negative) it was against the deadline.
    margin: timedelta | None = None


def countdown(
    *, deadline_kind: str, deadline_at: datetime | None, submitted_at: datetime | None, now: datetime
) -> Countdown:
    if submitted_at is not None:
        margin = deadline_at - submitted_at if deadline_at is not None else None
        return Countdown(Standing.submitted, None, margin)
    if deadline_kind == "retention":
        return Countdown(Standing.retention, None)
    if deadline_at is None:
        return Countdown(Standing.pending if deadline_kind == "pending_chained" else Standing.open, None)
    left = deadline_at - now
    if left < timedelta(0):
        return Countdown(Standing.overdue, left)
    if left <= DUE_SOON_WITHIN:
        return Countdown(Standing.due_soon, left)
    return Countdown(Standing.on_track, left)


def reminder_times(deadline_at: datetime, lead_hours: list[float]) -> list[tuple[int, datetime]]:
    """(lead in minutes, when) for each reminder before the deadline, plus the escalation at it (lead 0)."""
    leads = sorted({round(h * 60) for h in lead_hours if h > 0}, reverse=True)
    return [(lead, deadline_at - timedelta(minutes=lead)) for lead in leads] + [(0, deadline_at)]


def due_reminder(deadline_at: datetime, lead_hours: list[float], now: datetime) -> tuple[int, datetime] | None:
    """The one reminder that is due now: the latest whose time has passed (earlier ones are coalesced)."""
    passed = [(lead, when) for lead, when in reminder_times(deadline_at, lead_hours) if when <= now]
    return passed[-1] if passed else None


def clock_rows(obligations: list[Obligation], now: datetime) -> list[dict[str, Any]]:
    """Each stored obligation with where it stands at `now` (the CLI, the API and the console show these)."""
    rows = []
    for o in obligations:
        state = countdown(
            deadline_kind=o.deadline_kind, deadline_at=o.deadline_at, submitted_at=o.submitted_at, now=now
        )
        rows.append(
            {
                "rule": o.rule,
                "recipient": o.recipient,
                "deadline_kind": o.deadline_kind,
                "deadline_utc": iso_utc(o.deadline_at),
                "standing": (state.standing if o.active else Standing.withdrawn).value,
                "seconds_left": int(state.time_left.total_seconds()) if state.time_left is not None else None,
                "submitted_at": iso_utc(o.submitted_at),
                "margin_seconds": int(state.margin.total_seconds()) if state.margin is not None else None,
                "citation": o.citation,
                "explanation": o.explanation,
                "confidence": o.details.get("confidence"),
                "withdrawn_reason": o.withdrawn_reason,
            }
        )
    return rows
