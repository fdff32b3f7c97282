"""A playbook running on an incident, and the persisted state of each of its steps.

Step results are stored as each step finishes, so a re-run (after a wait, a crash or a restart)
resumes after the last completed step and never repeats a side effect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel
from tocsin.models.enums import RunStatus, StepStatus

from tocsin.db.types import JSONDocument, UTCDateTime


class PlaybookRun(SQLModel, table=True):
    __tablename__: ClassVar[str] = "playbook_run"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    playbook: str = Field(sa_type=String(100))
    playbook_version: int
    # The playbook as validated at launch, so a later edit of the file cannot change a running response.
    definition: dict[str, Any] = Field(sa_type=JSONDocument)
    inputs: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    status: str = Field(default=RunStatus.running, sa_type=String(16))  # RunStatus
    waiting_for: str | None = Field(default=None, sa_type=Text)
    wake_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    drill: bool = False
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    launched_by: str = Field(sa_type=String(64))
    flow_run_ids: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    # One runner at a time: whoever holds an unexpired lease advances the run.
    lease_owner: str | None = Field(default=None, sa_type=String(64))
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PlaybookStepState(SQLModel, table=True):
    __tablename__: ClassVar[str] = "playbook_step"  # type: ignore[misc]
    __table_args__ = (UniqueConstraint("run_id", "step_id", name="uq_playbook_step"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="playbook_run.id", index=True)
    step_id: str = Field(sa_type=String(64))
    position: int
    step_type: str = Field(sa_type=String(32))
    status: str = Field(default=StepStatus.pending, sa_type=String(16))  # StepStatus
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    note: str | None = Field(default=None, sa_type=Text)
    attempts: int = 0
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    wake_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
