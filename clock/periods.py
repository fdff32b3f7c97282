"""Deadline arithmetic, exactly as the reference `clock_conventions` say. Pure functions.

- elapsed hours: real UTC time (a DST change moves the local wall time, not the instant);
- calendar days: D0 = local date of the trigger in the rule's zone, deadline 23:59:59 local
  on D0 + N (no roll-forward);
- business days: the Nth business day after D0 in the rule's calendar (a trigger on a
  non-business day makes the next business day day 1), at the rule's cut-off;
- months: same local wall time N months later, clamped to the month's last day, with the
  Reg. 1182/71 end-of-day reading as the alternative.
Each function returns the UTC deadline and the arithmetic as text for the explanation; the
text is a function, rendered only when the explanation is read (10,000 incidents a second).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from tocsin.clock.calendars import CalendarBook

END_OF_DAY = time(23, 59, 59)
UTC_ZONE = ZoneInfo("UTC")


Text = Callable[[], str]


@dataclass(slots=True)
class Period:
    deadline: datetime
    text: Text
    local_date: date


def utc_text(instant: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ` (isoformat is several times faster than strftime)."""
    return instant.astimezone(UTC).isoformat()[:19] + "Z"


@lru_cache(maxsize=65536)
def local_to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """A local wall time as a UTC instant; in a DST gap or overlap the earlier instant (safe side).
    Cached: deadlines of many incidents end on the same local days."""
    first = datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)
    second = datetime.combine(day, wall, tzinfo=zone).replace(fold=1).astimezone(UTC)
    return min(first, second)


def _trigger_text(anchor: str, instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return f"{anchor} {utc_text(instant)} = {local:%Y-%m-%d %H:%M} {local.tzname()} (D0 {local:%Y-%m-%d}, {zone.key})"


def elapsed_hours(anchor: str, instant: datetime, hours: float) -> Period:
    deadline = instant + timedelta(hours=hours)
    shown = int(hours) if float(hours).is_integer() else hours

    def text() -> str:
        return f"{anchor} {utc_text(instant)} + {shown} h (elapsed, DST ignored) = {utc_text(deadline)}"

    return Period(deadline, text, deadline.date())


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    return local_to_utc(day, END_OF_DAY, zone)


def calendar_days(anchor: str, instant: datetime, days: int, zone: ZoneInfo, *, day_one: bool = False) -> Period:
    start = instant.astimezone(zone).date()
    offset = days - 1 if day_one else days
    due = start + timedelta(days=offset)
    deadline = end_of_day(due, zone)

    def text() -> str:
        counting = (
            f"D0 + {offset} (trigger day counted as day 1 of {days})" if day_one else f"D0 + {days} calendar days"
        )
        return (
            f"{_trigger_text(anchor, instant, zone)}; {counting} = {due:%Y-%m-%d %a}, "
            f"ends 23:59:59 {deadline.astimezone(zone).tzname()} = {utc_text(deadline)}"
        )

    return Period(deadline, text, due)


def business_days(
    anchor: str,
    instant: datetime,
    days: int,
    zone: ZoneInfo,
    book: CalendarBook,
    calendar_name: str,
    cutoff: time | None,
) -> Period:
    start = instant.astimezone(zone).date()
    due, counted = book.add_business_days(calendar_name, start, days)
    wall = cutoff or END_OF_DAY
    deadline = local_to_utc(due, wall, zone)

    def text() -> str:
        listing = ", ".join(f"{day:%m-%d}" for day in counted)
        note = "" if book.is_business_day(calendar_name, start) else " (non-business day: next business day is day 1)"
        return (
            f"{_trigger_text(anchor, instant, zone)}{note}; {days} business days ({calendar_name} calendar): "
            f"{listing}; due {due:%Y-%m-%d %a} {wall:%H:%M:%S} {deadline.astimezone(zone).tzname()} "
            f"= {utc_text(deadline)}"
        )

    return Period(deadline, text, due)


def add_months_local(local: datetime, months: int) -> datetime:
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def months_later(anchor: str, instant: datetime, months: int, zone: ZoneInfo) -> tuple[Period, datetime]:
    """Same local wall time `months` later (clamped); also the 1182/71 end-of-day reading."""
    local = instant.astimezone(zone)
    target = add_months_local(local.replace(tzinfo=None), months)
    deadline = local_to_utc(target.date(), target.time(), zone)
    alternative = end_of_day(target.date(), zone)

    def text() -> str:
        return (
            f"{_trigger_text(anchor, instant, zone)}; + {months} month(s), same local wall time "
            f"= {target:%Y-%m-%d %H:%M} {deadline.astimezone(zone).tzname()} = {utc_text(deadline)}"
        )

    return Period(deadline, text, target.date()), alternative


def annual_batch(anchor: str, instant: datetime, days: int, zone: ZoneInfo) -> Period:
    year = instant.astimezone(zone).year
    due = date(year, 12, 31) + timedelta(days=days)
    deadline = end_of_day(due, zone)

    def text() -> str:
        return (
            f"{_trigger_text(anchor, instant, zone)}; annual log of {year}: 31 Dec {year} + {days} days = "
            f"{due:%Y-%m-%d}, ends 23:59:59 {deadline.astimezone(zone).tzname()} = {utc_text(deadline)}"
        )

    return Period(deadline, text, due)


def retention_until(anchor: str, instant: datetime, months: int, zone: ZoneInfo) -> tuple[date, Text]:
    start = instant.astimezone(zone)
    until = add_months_local(start.replace(tzinfo=None), months).date()
    return (
        until,
        lambda: f"{_trigger_text(anchor, instant, zone)}; keep {months} months: until {until:%Y-%m-%d} (local)",
    )


def roll_forward_end_of_day(day: date, zone: ZoneInfo, book: CalendarBook, calendar_name: str) -> tuple[datetime, date]:
    rolled = book.roll_forward(calendar_name, day)
    return end_of_day(rolled, zone), rolled
