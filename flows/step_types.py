"""What a step handler receives and returns, and the registry of handlers by step type.

Handlers are small functions registered with `@handles("type")` (one per step type, like
Response's decorator-registered Slack handlers). A handler must be safe to call again: a step
that waits is called again when the run is advanced, and a step interrupted by a crash is re-run;
every side effect is keyed by the run and step so that it happens once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session
from tocsin.models import Incident, StepStatus
from tocsin.models.playbook_run import PlaybookRun, PlaybookStepState


@dataclass(frozen=True)
class Outcome:
    status: StepStatus  # done, waiting or skipped (a step fails by raising)
    result: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    wake_at: datetime | None = None

    @classmethod
    def done(cls, note: str | None = None, **result: Any) -> Outcome:
        return cls(StepStatus.done, result, note)

    @classmethod
    def waiting(cls, note: str, wake_at: datetime | None = None, **result: Any) -> Outcome:
        return cls(StepStatus.waiting, result, note, wake_at)

    @classmethod
    def skipped(cls, note: str) -> Outcome:
        return cls(StepStatus.skipped, {}, note)


@dataclass
class StepContext:
    session: Session
    run: PlaybookRun
    incident: Incident
    state: PlaybookStepState
    step: Any
    now: datetime

    @property
    def key(self) -> str:
        """Idempotency key of this step's side effects."""
        return f"run{self.run.id}:{self.state.step_id}"

    def input(self, name: str, default: Any = None) -> Any:
        return (self.run.inputs or {}).get(name, default)


Handler = Callable[[StepContext, Any], Outcome]
_HANDLERS: dict[str, Handler] = {}


def handles(step_type: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        _HANDLERS[step_type] = function
        return function

    return register


def handler_for(step_type: str) -> Handler:
    if not _HANDLERS:
        from tocsin.flows import steps_clock, steps_messages, steps_people  # noqa: F401  (register handlers)
    return _HANDLERS[step_type]
