"""Result types of the clock engine and their JSON form (facts-vocabulary section 6)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

DeadlineKind = Literal["fixed", "no_fixed_deadline", "pending_chained", "on_request", "guidance_target", "retention"]


def iso_z(instant: datetime | None) -> str | None:
    """`YYYY-MM-DDTHH:MM:SSZ` (seconds always, no fraction, never +00:00), or None."""
    return None if instant is None else instant.astimezone(UTC).isoformat()[:19] + "Z"


def _written(deferred: Callable[[], str] | tuple[Any, ...]) -> str:
    """Deferred text: a function of no arguments, or (function, *arguments)."""
    if type(deferred) is tuple:
        return deferred[0](*deferred[1:])  # type: ignore[no-any-return]
    return deferred()  # type: ignore[operator]


@dataclass(slots=True)
class Obligation:
    """One thing someone must do by (or without) a deadline, and why.

    The explanation is built on first read (`_explanation` may hold the function that builds
    it, or a `(function, *arguments)` tuple, one object cheaper than a partial): computing
    10,000 incidents' deadlines should not pay for text nobody displays.
    """

    rule: str
    recipient: str
    deadline_kind: DeadlineKind
    deadline_utc: datetime | None
    citation: str
    _explanation: str | Callable[[], str] | tuple[Any, ...]
    status: str
    confidence: str
    regime: str
    obligation: str
    trigger_event: str | None = None
    trigger_utc: datetime | None = None
    day_boundary_tz: str | None = None
    deadline_date_local: date | None = None
    alt_deadline_utc: datetime | None = None
    strict_deadline_utc: datetime | None = None
    retain_until_local_date: date | None = None
    latest_if_previous_submitted_at_deadline: datetime | None = None
    backstop_utc: datetime | None = None
    possible_legal_extension: bool = False
    phase: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    confidence_notes: str | None = None

    @property
    def explanation(self) -> str:
        text = self._explanation
        if not isinstance(text, str):
            text = self._explanation = _written(text)
        return text

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "recipient": self.recipient,
            "deadline_kind": self.deadline_kind,
            "deadline_utc": iso_z(self.deadline_utc),
            "citation": self.citation,
            "explanation": self.explanation,
            "status": self.status,
            "confidence": self.confidence,
            "regime": self.regime,
            "obligation": self.obligation,
        }
        optional = {
            "phase": self.phase,
            "trigger_event": self.trigger_event,
            "trigger_utc": iso_z(self.trigger_utc),
            "day_boundary_tz": self.day_boundary_tz,
            "deadline_date_local": self.deadline_date_local.isoformat() if self.deadline_date_local else None,
            "alt_deadline_utc": iso_z(self.alt_deadline_utc),
            "strict_deadline_utc": iso_z(self.strict_deadline_utc),
            "retain_until_local_date": self.retain_until_local_date.isoformat()
            if self.retain_until_local_date
            else None,
            "latest_if_previous_submitted_at_deadline": iso_z(self.latest_if_previous_submitted_at_deadline),
            "backstop_utc": iso_z(self.backstop_utc),
            "possible_legal_extension": self.possible_legal_extension or None,
            "confidence_notes": self.confidence_notes,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        data.update({key: iso_z(value) if isinstance(value, datetime) else value for key, value in self.extra.items()})
        data["sources"] = list(self.sources)
        return data


@dataclass(slots=True)
class NotTriggered:
    """A rule that was considered and does not apply, with the reason.

    Like an obligation's explanation, the reason may be held as the function that builds it:
    most reasons of a 10,000-incident batch are never read.
    """

    rule: str
    _reason: str | Callable[[], str] | tuple[Any, ...]

    @property
    def reason(self) -> str:
        text = self._reason
        if not isinstance(text, str):
            text = self._reason = _written(text)
        return text

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "reason": self.reason}


@dataclass(slots=True)
class ObligationReport:
    obligations: list[Obligation]
    not_triggered: list[NotTriggered]
    now: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Exactly the output contract: {"obligations": [...], "not_triggered": [...]}."""
        return {
            "obligations": [item.to_dict() for item in self.obligations],
            "not_triggered": [item.to_dict() for item in self.not_triggered],
        }

    def for_rule(self, rule_id: str) -> list[Obligation]:
        return [item for item in self.obligations if item.rule == rule_id]
