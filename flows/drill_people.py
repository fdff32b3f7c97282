"""The simulated team of a drill: acknowledges pages, reviews drafts, revises rejected ones, finishes
tasks and records events, each after the delay the scenario gives. Everything goes through the same
services people use, so the record reads as if people had done it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select
from tocsin.flows.scenario import Scenario
from tocsin.models.checklist import ChecklistItem
from tocsin.models.escalation import Escalation
from tocsin.models.playbook_run import PlaybookRun
from tocsin.playbooks.schema import parse_duration

from tocsin.db.engine import session_scope
from tocsin.obligations.reminders import desired_jobs, fire_reminder


class SimulatedTeam:
    def __init__(self, scenario: Scenario, incident_id: int) -> None:
        self.scenario = scenario
        self.incident_id = incident_id
        self.behaviour = scenario.behaviour
        self.paged_at: dict[tuple[int, int], datetime] = {}  # (escalation, level) → when that level was paged
        self.review_started: dict[tuple[int, str], datetime] = {}  # (draft, content hash) → entered review
        self.rejected_at: dict[int, datetime] = {}
        self.decisions: dict[str, int] = {}  # draft step → decisions taken so far
        self.events_done: set[str] = set()
        self.task_seen: dict[int, datetime] = {}  # checklist item → when the team first saw it

    # -- what is pending, and when ---------------------------------------------------------------------------

    def _observe(self, now: datetime) -> None:
        with session_scope() as session:
            for escalation in session.exec(select(Escalation).where(Escalation.incident_id == self.incident_id)):
                self.paged_at.setdefault((escalation.id or 0, escalation.level), now)
        from tocsin.flows import drill_drafts

        drill_drafts.observe(self, now)

    def _pending(self, now: datetime) -> list[tuple[datetime, str, tuple]]:
        """(when, kind, details) of every action the team will take."""
        self._observe(now)
        actions: list[tuple[datetime, str, tuple]] = []
        with session_scope() as session:
            for escalation in session.exec(
                select(Escalation).where(Escalation.incident_id == self.incident_id, Escalation.status == "open")
            ):
                for level in range(escalation.level + 1):
                    for handle in escalation.levels[level]:
                        delay = self.behaviour.acks.get(handle)
                        paged = self.paged_at.get((escalation.id or 0, level))
                        if delay is not None and paged is not None:
                            actions.append((paged + parse_duration(delay), "ack", (escalation.id, handle)))
            for item in session.exec(
                select(ChecklistItem).where(
                    ChecklistItem.incident_id == self.incident_id,
                    ChecklistItem.done_at.is_(None),  # type: ignore[union-attr]
                )
            ):
                from tocsin.models.enums import Role

                delay = self.behaviour.tasks_done_after.get(Role(item.role))
                doer = next((m.handle for m in self.scenario.people if m.role.value == item.role), None)
                created = self.task_seen.setdefault(item.id or 0, now)
                if delay is not None and doer is not None:
                    actions.append((created + parse_duration(delay), "task", (item.id, doer)))
        for event, offset in self.behaviour.events.items():
            if event not in self.events_done:
                actions.append((self.scenario.start + parse_duration(offset), "event", (event,)))
        from tocsin.flows import drill_drafts

        actions += drill_drafts.pending(self, now)
        return actions

    def next_moment(self, run_id: int, now: datetime, *, include_run: bool = True) -> datetime | None:
        candidates = [when for when, _kind, _details in self._pending(now)]
        with session_scope() as session:
            run = session.get(PlaybookRun, run_id)
            if include_run and run is not None and run.wake_at is not None:
                candidates.append(run.wake_at)
        candidates += [run_at for *_rest, run_at in desired_jobs(now).values()]
        later = [c for c in candidates if c > now]
        due_now = [c for c in candidates if c <= now]
        if due_now:
            return now + timedelta(seconds=1)
        return min(later) if later else None

    def waiting_on(self, run_id: int) -> str:
        with session_scope() as session:
            run = session.get(PlaybookRun, run_id)
            return run.waiting_for if run and run.waiting_for else "nothing scheduled"

    # -- acting ---------------------------------------------------------------------------------------------

    def act(self, now: datetime) -> list[str]:
        """Do everything due by `now`; returns what was done (empty: nothing changed)."""
        from tocsin.core.errors import InvalidInput
        from tocsin.messages.escalations import acknowledge
        from tocsin.obligations.service import record_event

        done: list[str] = []
        for when, kind, details in sorted(self._pending(now), key=lambda a: a[0]):
            if when > now:
                continue
            with session_scope() as session:
                try:
                    if kind == "ack":
                        acknowledge(session, details[0], person=details[1])
                    elif kind == "task":
                        from tocsin.incidents.checklists import mark_done

                        mark_done(session, details[0], person=details[1])
                    elif kind == "event":
                        from tocsin.incidents.service import get_incident

                        record_event(
                            session,
                            get_incident(session, self.incident_id),
                            details[0],
                            now,
                            actor=self.scenario.people[0].handle,
                        )
                        self.events_done.add(details[0])
                    else:
                        from tocsin.flows import drill_drafts

                        drill_drafts.act(self, session, kind, details, now)
                    done.append(kind)
                except InvalidInput:
                    continue  # already done by someone else (e.g. a second person acking)
        for obligation_id, lead, deadline, run_at in desired_jobs(now).values():
            if run_at <= now and fire_reminder(obligation_id, lead, deadline.isoformat()):
                done.append("reminder")
        return done
