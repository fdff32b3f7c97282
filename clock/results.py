"""Result types of the clock engine and their JSON form (facts-vocabulary section 6)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


_FIELDS = (
    "rule",
    "recipient",
    "deadline_kind",
    "deadline_utc",
    "citation",
    "explanation",
    "status",
    "confidence",
    "regime",
    "obligation",
    "trigger_event",
    "trigger_utc",
    "day_boundary_tz",
    "deadline_date_local",
    "alt_deadline_utc",
    "strict_deadline_utc",
    "retain_until_local_date",
    "latest_if_previous_submitted_at_deadline",
    "backstop_utc",
    "possible_legal_extension",
    "phase",
    "extra",
    "sources",
    "confidence_notes",
)


class Obligation:
    """One thing someone must do by (or without) a deadline, and why.

    Built by the engine ~80,000 times a batch, so it holds only what varies per obligation:
    the rule's constants (citation, status, confidence, regime, obligation, sources, notes)
    and the timing's label are read through the compiled rule and timing it keeps, and the
    secondary dates (zone, local date, alternative/strict readings, retention, extension,
    extra) from the deadline function's tuple, `(deadline, zone, local date, alt, strict,
    retain until, possible extension, extra)`. The explanation is written on first read:
    `_explanation` holds the text or a function of the obligation that writes it (one per
    incident, shared): computing 10,000 incidents' deadlines should not pay for text nobody displays.
    """

    __slots__ = (
        "_dates",
        "_explanation",
        "_extra",
        "_rule",
        "_timing",
        "backstop_utc",
        "deadline_kind",
        "deadline_utc",
        "latest_if_previous_submitted_at_deadline",
        "recipient",
        "rule",
        "trigger_event",
        "trigger_utc",
    )

    def __init__(
        self,
        rule: Any,
        timing: Any,
        dates: tuple[Any, ...],
        explanation: str | Callable[[Obligation], str],
        recipient: str,
        deadline_kind: DeadlineKind,
        trigger_event: str | None = None,
        trigger_utc: datetime | None = None,
        latest: datetime | None = None,
        backstop: datetime | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.rule: str = rule.id
        self._rule = rule  # CompiledRule
        self._timing = timing  # Timing
        self._dates = dates
        self._explanation = explanation
        self.recipient = recipient
        self.deadline_kind = deadline_kind
        self.deadline_utc: datetime | None = dates[0]
        self.trigger_event = trigger_event
        self.trigger_utc = trigger_utc
        self.latest_if_previous_submitted_at_deadline = latest
        self.backstop_utc = backstop
        self._extra = extra  # None until read or copied: most obligations have no extra field

    def copy_for(self, recipient: str) -> Obligation:
        """The same obligation owed to another recipient (its own `extra` dict)."""
        return Obligation(
            self._rule,
            self._timing,
            self._dates,
            self._explanation,
            recipient,
            self.deadline_kind,
            self.trigger_event,
            self.trigger_utc,
            self.latest_if_previous_submitted_at_deadline,
            self.backstop_utc,
            dict(self.extra),
        )

    @property
    def citation(self) -> str:
        return self._rule.spec.citation  # type: ignore[no-any-return]

    @property
    def status(self) -> str:
        return self._rule.spec.status  # type: ignore[no-any-return]

    @property
    def confidence(self) -> str:
        return self._rule.spec.confidence  # type: ignore[no-any-return]

    @property
    def regime(self) -> str:
        return self._rule.spec.regime  # type: ignore[no-any-return]

    @property
    def obligation(self) -> str:
        return self._rule.spec.obligation  # type: ignore[no-any-return]

    @property
    def sources(self) -> tuple[str, ...]:
        return self._rule.sources  # type: ignore[no-any-return]

    @property
    def confidence_notes(self) -> str | None:
        return self._rule.spec.confidence_notes  # type: ignore[no-any-return]

    @property
    def phase(self) -> str | None:
        return self._timing.label  # type: ignore[no-any-return]

    @property
    def day_boundary_tz(self) -> str | None:
        return self._dates[1]  # type: ignore[no-any-return]

    @property
    def deadline_date_local(self) -> date | None:
        return self._dates[2] if self._dates[1] else None

    @property
    def alt_deadline_utc(self) -> datetime | None:
        alt, deadline = self._dates[3], self._dates[0]
        if alt is not None and deadline is not None and alt <= deadline:
            return None  # only the later reading is informative
        return alt  # type: ignore[no-any-return]

    @property
    def strict_deadline_utc(self) -> datetime | None:
        return self._dates[4]  # type: ignore[no-any-return]

    @property
    def retain_until_local_date(self) -> date | None:
        return self._dates[5]  # type: ignore[no-any-return]

    @property
    def possible_legal_extension(self) -> bool:
        return self._dates[6]  # type: ignore[no-any-return]

    @property
    def extra(self) -> dict[str, Any]:
        extra = self._extra
        if extra is None:
            extra = self._extra = dict(self._dates[7]) if self._dates[7] else {}
        return extra

    @extra.setter
    def extra(self, value: dict[str, Any]) -> None:
        self._extra = value

    @property
    def explanation(self) -> str:
        text = self._explanation
        if not isinstance(text, str):
            text = self._explanation = text(self)
        return text

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaced

    def __repr__(self) -> str:
        return f"Obligation({', '.join(f'{name}={getattr(self, name)!r}' for name in _FIELDS)})"

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


def display_order(item: Obligation) -> tuple[bool, datetime, int]:
    """Sort key of the output: dated obligations soonest first, then undated; ties in rules.yaml order.
    Deadlines compare by their wall-clock fields (as naive datetimes would): a UTC deadline as it is,
    any other moved into UTC with its fields unchanged, so that every key compares field by field."""
    deadline = item.deadline_utc
    if deadline is None:
        return item._rule.undated_order  # type: ignore[no-any-return]
    return False, deadline if deadline.tzinfo is UTC else deadline.replace(tzinfo=UTC), item._rule.position


_new = object.__new__


def new_obligation(
    rule: Any,
    timing: Any,
    dates: tuple[Any, ...],
    explanation: Callable[[Obligation], str],
    kind: str,
    trigger_event: str | None,
    trigger_utc: datetime | None,
    latest: datetime | None = None,
) -> Obligation:
    """`Obligation(...)` for the engine's hot path, owed to the rule's own recipient: a plain
    function call (inlined by the interpreter) instead of a class call that runs `__init__`."""
    item = _new(Obligation)
    item.rule = rule.id
    item._rule = rule
    item._timing = timing
    item._dates = dates
    item._explanation = explanation
    item.recipient = rule.recipient
    item.deadline_kind = kind  # type: ignore[assignment]
    item.deadline_utc = dates[0]
    item.trigger_event = trigger_event
    item.trigger_utc = trigger_utc
    item.latest_if_previous_submitted_at_deadline = latest
    item.backstop_utc = None
    item._extra = None
    return item


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


def not_triggered(rule_id: str, reason: str | Callable[[], str] | tuple[Any, ...]) -> NotTriggered:
    """`NotTriggered(rule_id, reason)` for the engine's hot path (no `__init__` call)."""
    item = _new(NotTriggered)
    item.rule = rule_id
    item._reason = reason
    return item
