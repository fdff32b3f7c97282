"""Time for Tocsin: timezone-aware UTC instants and a clock that code can swap out.

Everything is stored and compared in UTC. A drill or a test installs a `FixedClock` or a
`SimulatedClock`; production uses the `SystemClock`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tocsin.core.errors import InvalidInput


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that only moves when told to (tests)."""

    instant: datetime

    def __post_init__(self) -> None:
        self.instant = to_utc(self.instant)

    def now(self) -> datetime:
        return self.instant

    def advance(self, delta: timedelta) -> None:
        self.instant += delta


@dataclass
class SimulatedClock:
    """Simulated time for drills: starts at `start` and runs `speed` times faster than real time."""

    start: datetime
    speed: float = 1.0
    _real_start: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        elapsed = datetime.now(UTC) - self._real_start
        return to_utc(self.start) + elapsed * self.speed


_current: Clock = SystemClock()


def current_clock() -> Clock:
    return _current


def use_clock(clock: Clock) -> Clock:
    """Install `clock` as the process clock; returns the previous one so callers can restore it."""
    global _current
    previous, _current = _current, clock
    return previous


def utcnow() -> datetime:
    return _current.now()


def to_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput(f"timestamp {instant.isoformat()} has no UTC offset")
    return instant.astimezone(UTC)


def parse_instant(text: str, *, field_name: str = "timestamp") -> datetime:
    """Parse an ISO 8601 instant that carries an offset (`Z` or `+01:00`); naive times are refused."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise InvalidInput(f"{field_name}: {text!r} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InvalidInput(f"{field_name}: {text!r} has no UTC offset; write it as e.g. {text}Z or {text}+01:00")
    return parsed.astimezone(UTC)


def iso_utc(instant: datetime | None) -> str | None:
    """`YYYY-MM-DDTHH:MM:SSZ`, the one form Tocsin prints for machines."""
    if instant is None:
        return None
    return to_utc(instant).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)") from None


def local_display(instant: datetime, zone_name: str) -> str:
    """Local time for people: `2027-05-12 09:15 CEST`."""
    return to_utc(instant).astimezone(zone(zone_name)).strftime("%Y-%m-%d %H:%M %Z")


def humanize_delta(delta: timedelta) -> str:
    """`2d 03h 15m`, or `-5h 02m` for the past (overdue)."""
    sign = "-" if delta.total_seconds() < 0 else ""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{sign}{days}d {hours:02d}h {minutes:02d}m"
    return f"{sign}{hours}h {minutes:02d}m"
