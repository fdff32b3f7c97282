"""The drill's scorecard: every deadline met or missed and by how much, time to the first regulator
and customer notices, acknowledgements and escalations, reviews, tasks. Built from the record."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import select
from tocsin.flows.scenario import Scenario
from tocsin.models import EscalationStatus, Obligation, ReminderSent, StepStatus
from tocsin.models.checklist import ChecklistItem
from tocsin.models.escalation import Escalation
from tocsin.models.playbook_run import PlaybookStepState

from tocsin.audit.timeline import timeline
from tocsin.core.clocks import iso_utc
from tocsin.db.engine import session_scope
from tocsin.incidents.service import get_incident
from tocsin.obligations.reminders import TIMED_KINDS


def _hours(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 3600, 2)


def scorecard(incident_id: int, run_id: int, scenario: Scenario) -> dict[str, Any]:
    with session_scope() as session:
        incident = get_incident(session, incident_id)
        aware = incident.aware_at
        obligations = list(session.exec(select(Obligation).where(Obligation.incident_id == incident_id)))
        deadlines = []
        for o in obligations:
            if not o.active or o.deadline_kind not in TIMED_KINDS or o.deadline_at is None:
                continue
            met = None if o.submitted_at is None else o.submitted_at <= o.deadline_at
            margin_from = o.submitted_at
            deadlines.append(
                {
                    "rule": o.rule,
                    "recipient": o.recipient,
                    "deadline_utc": iso_utc(o.deadline_at),
                    "submitted_at": iso_utc(o.submitted_at),
                    "met": met,
                    "margin_hours": _hours(margin_from, o.deadline_at) if margin_from else None,
                }
            )
        events = timeline(session, incident_id)
        regulator = [e.at for e in events if e.action == "obligation.submitted"]
        customers = [e.at for e in events if e.action == "notice.wave_finished"]
        from tocsin.models.draft import Draft

        statements = [
            d.sent_at
            for d in session.exec(select(Draft).where(Draft.incident_id == incident_id, Draft.audience == "public"))
            if d.sent_at is not None
        ]
        escalations = list(session.exec(select(Escalation).where(Escalation.incident_id == incident_id)))
        items = list(session.exec(select(ChecklistItem).where(ChecklistItem.incident_id == incident_id)))
        reminders = list(
            session.exec(
                select(ReminderSent).where(ReminderSent.obligation_id.in_([o.id for o in obligations]))  # type: ignore[union-attr]
            )
        )
        steps = list(session.exec(select(PlaybookStepState).where(PlaybookStepState.run_id == run_id)))
        card: dict[str, Any] = {
            "scenario": scenario.name,
            "playbook": scenario.playbook,
            "incident": incident.ref,
            "aware_at": iso_utc(aware),
            "deadlines": sorted(deadlines, key=lambda d: d["deadline_utc"]),
            "deadlines_met": sum(1 for d in deadlines if d["met"] is True),
            "deadlines_missed": sum(1 for d in deadlines if d["met"] is False),
            "deadlines_open": sum(1 for d in deadlines if d["met"] is None),
            "first_regulator_notice_hours": _hours(aware, min(regulator)) if regulator else None,
            "first_customer_notice_hours": _hours(aware, min(customers)) if customers else None,
            "first_public_statement_hours": _hours(aware, min(statements)) if statements else None,
            "escalations": [
                {
                    "role": e.role,
                    "status": e.status,
                    "acked_by": e.acked_by,
                    "ack_minutes": round((e.acked_at - e.started_at).total_seconds() / 60, 1) if e.acked_at else None,
                    "levels_paged": e.level + 1,
                }
                for e in escalations
            ],
            "acknowledged": sum(1 for e in escalations if e.status == EscalationStatus.acked),
            "escalated_beyond_first": sum(1 for e in escalations if e.level > 0),
            "unacknowledged": sum(1 for e in escalations if e.status == EscalationStatus.exhausted),
            "reminders_sent": sum(1 for r in reminders if r.lead_minutes > 0),
            "overdue_escalations": sum(1 for r in reminders if r.lead_minutes == 0),
            "draft_rejections": sum(1 for e in events if e.action == "draft.rejected"),
            "draft_approvals": sum(1 for e in events if e.action == "draft.approved"),
            "tasks": {
                "total": len(items),
                "on_time": sum(1 for i in items if i.done_at and (i.due_at is None or i.done_at <= i.due_at)),
                "late": sum(1 for i in items if i.done_at and i.due_at and i.done_at > i.due_at),
                "open": sum(1 for i in items if i.done_at is None),
            },
            "steps": {
                s.value: sum(1 for x in steps if x.status == s)
                for s in (StepStatus.done, StepStatus.skipped, StepStatus.waiting, StepStatus.failed)
            },
            "sentiment_alerts": sum(1 for e in events if e.action == "sentiment.alert"),
            "timeline_events": len(events),
        }
    return card


def markdown(card: dict[str, Any]) -> str:
    lines = [
        f"# Drill scorecard: {card['scenario']}",
        "",
        f"Playbook `{card['playbook']}` on {card['incident']}, aware {card['aware_at']}.",
        "",
        "## Deadlines",
        "",
        "| rule | recipient | deadline (UTC) | submitted | result |",
        "|---|---|---|---|---|",
    ]
    for d in card["deadlines"]:
        result = "open" if d["met"] is None else ("met" if d["met"] else "MISSED")
        if d["margin_hours"] is not None:
            result += f" ({abs(d['margin_hours']):.1f} h {'early' if d['margin_hours'] >= 0 else 'late'})"
        lines.append(
            f"| {d['rule']} | {d['recipient']} | {d['deadline_utc']} | {d['submitted_at'] or '—'} | {result} |"
        )
    lines += ["", "## Response", ""]
    for label, key in (
        ("First regulator notice (h after awareness)", "first_regulator_notice_hours"),
        ("First customer notice (h after awareness)", "first_customer_notice_hours"),
        ("First public statement (h after awareness)", "first_public_statement_hours"),
        ("Pages acknowledged", "acknowledged"),
        ("Escalated past the first person", "escalated_beyond_first"),
        ("Never acknowledged", "unacknowledged"),
        ("Deadline reminders sent", "reminders_sent"),
        ("Overdue escalations", "overdue_escalations"),
        ("Drafts rejected by legal", "draft_rejections"),
        ("Drafts approved", "draft_approvals"),
        ("Sentiment alerts", "sentiment_alerts"),
    ):
        lines.append(f"- {label}: {card[key] if card[key] is not None else '—'}")
    tasks = card["tasks"]
    lines.append(
        f"- Checklist: {tasks['on_time']} on time, {tasks['late']} late, {tasks['open']} open of {tasks['total']}"
    )
    return "\n".join(lines) + "\n"


def write_scorecard(card: dict[str, Any], folder: Path) -> None:
    (folder / "scorecard.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    (folder / "scorecard.md").write_text(markdown(card))
