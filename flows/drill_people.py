"""The simulated team of a drill: acknowledges pages, reviews drafts, revises rejected ones, finishes
tasks and records events, each after the delay the scenario gives. Every one of these goes through the
same actions as a person at any door (`tocsin/*/actions.py`, as `Actor(handle, Via.drill)`), so the role
policy holds in a drill too and the record reads as if people had done it. What the scheduler does in
production (reminders, moving unacknowledged pages on) the team does on the drill's clock, through the
scheduler's own functions. Nothing here wakes the run: the drill's loop runs its next phase."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select
from tocsin.flows.drill_setup import member
from tocsin.flows.scenario import Scenario
from tocsin.models import EscalationStatus
from tocsin.models.checklist import ChecklistItem
from tocsin.models.enums import Role
from tocsin.models.escalation import Escalation
from tocsin.models.playbook_run import PlaybookRun
from tocsin.playbooks.schema import parse_duration

from tocsin.core.errors import Forbidden, InvalidInput
from tocsin.core.wakeup import wake_nothing
from tocsin.db.engine import session_scope
from tocsin.incidents.actions import task_done
from tocsin.messages.actions import acknowledge
from tocsin.messages.escalations import advance_due_escalations
from tocsin.obligations.actions import record_event
from tocsin.obligations.reminders import desired_jobs, fire_reminder

Pending = tuple[datetime, str, tuple[Any, ...]]  # (when, kind, details) of one thing the team will do


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
        self.refused: set[Pending] = set()  # refused or already done by someone else: not tried again

    # -- what is pending, and when ---------------------------------------------------------------------------

    def _observe(self, now: datetime) -> None:
        with session_scope() as session:
            for escalation in session.exec(select(Escalation).where(Escalation.incident_id == self.incident_id)):
                self.paged_at.setdefault((escalation.id or 0, escalation.level), now)
        from tocsin.flows import drill_drafts

        drill_drafts.observe(self, now)

    def _pending(self, now: datetime) -> list[Pending]:
        """(when, kind, details) of every action the team will take."""
        self._observe(now)
        actions: list[Pending] = []
        with session_scope() as session:
            for escalation in session.exec(
                select(Escalation).where(
                    Escalation.incident_id == self.incident_id, Escalation.status == EscalationStatus.open.value
                )
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
        return [action for action in actions if action not in self.refused]

    def next_moment(self, run_id: int, now: datetime, *, include_run: bool = True) -> datetime | None:
        candidates = [when for when, _kind, _details in self._pending(now)]
        with session_scope() as session:
            run = session.get(PlaybookRun, run_id)
            if include_run and run is not None and run.wake_at is not None:
                candidates.append(run.wake_at)
            # A page moves on at its ack timeout whether or not the run still waits on it (the scheduler's pass).
            chains = select(Escalation.next_at).where(
                Escalation.incident_id == self.incident_id, Escalation.status == EscalationStatus.open.value
            )
            candidates += [at for at in session.exec(chains) if at is not None]
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
        done: list[str] = []
        for action in sorted(self._pending(now), key=lambda a: a[0]):
            when, kind, details = action
            if when > now:
                continue
            try:
                self._do(kind, details, now)
                done.append(kind)
            except (InvalidInput, Forbidden):
                # Already done by someone else (a second person acknowledging the same page), or refused by the
                # policy (the refusal is on the timeline, naming the rule): either way, not tried again.
                self.refused.add(action)
        # The scheduler's part, on the drill's clock: reminders that fell due, pages whose ack timeout passed.
        for obligation_id, lead, deadline, run_at in desired_jobs(now).values():
            if run_at <= now and fire_reminder(obligation_id, lead, deadline.isoformat()):
                done.append("reminder")
        done += ["escalation" for _moved in advance_due_escalations()]
        return done

    def _do(self, kind: str, details: tuple[Any, ...], now: datetime) -> None:
        if kind == "ack":
            escalation_id, handle = details
            acknowledge(member(handle), escalation_id, waker=wake_nothing)
        elif kind == "task":
            item_id, handle = details
            task_done(member(handle), item_id, waker=wake_nothing)
        elif kind == "event":
            # A clock event is the commander's, legal's or the DPO's word: whoever saw it happen tells the commander.
            (event,) = details
            record_event(member(self.scenario.commander), self.incident_id, event, at=now, waker=wake_nothing)
            self.events_done.add(event)
        else:
            from tocsin.flows import drill_drafts

            drill_drafts.act(self, kind, details, now)
