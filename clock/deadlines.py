"""Deadline-only arithmetic: the fast path of `timing.compute`, without explanation text.

`compile_deadline` turns a rule's deadline spec into one function, decided at load, that
answers the dated fields of an obligation as a `Dates` tuple. It follows `timing.compute`
step for step (zone choice, kind, earliest-of terms, DORA relief) and builds no notes: the
engine re-runs `timing.compute` only when an explanation is read. The two must agree;
tests/clock/test_fast_path.py checks that they do on generated incidents.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tocsin.clock import periods
from tocsin.clock.conditions import TRUE, Context
from tocsin.clock.schema import DeadlineSpec, Term, ZoneByPrefix

if TYPE_CHECKING:
    from tocsin.clock.rules_loader import RuleBook

UTC_ZONE = periods.UTC_ZONE


# The dated fields of one obligation (what `timing.Computed` holds, minus the notes), as a plain
# tuple (cheaper than a NamedTuple): (deadline, zone key, local date, alternative deadline,
# strict deadline before relief, retain-until date, possible legal extension, extra fields).
Dates = tuple[
    datetime | None, str | None, date | None, datetime | None, datetime | None, date | None, bool, dict[str, Any] | None
]


def dated(deadline: datetime | None, zone: str | None = None, local_date: date | None = None) -> Dates:
    return (deadline, zone, local_date, None, None, None, False, None)


UNDATED: Dates = dated(None)
_MEMO_LIMIT = 65536  # per-day memos: a few hundred days x a few zones in practice
_END_OF_DAY: dict[tuple[date, ZoneInfo], datetime] = {}
_SPANS: dict[int, timedelta] = {}
_MONTHS: dict[tuple[date, int], date] = {}


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """`periods.end_of_day`, memoised per (local day, zone): deadlines of a batch share days."""
    found = _END_OF_DAY.get((day, zone))
    if found is None:
        if len(_END_OF_DAY) >= _MEMO_LIMIT:
            _END_OF_DAY.clear()
        found = _END_OF_DAY[(day, zone)] = periods.end_of_day(day, zone)
    return found


def days(count: int) -> timedelta:
    """timedelta(days=count), kept: building a timedelta from keywords costs more than the arithmetic."""
    found = _SPANS.get(count)
    if found is None:
        found = _SPANS[count] = timedelta(days=count)
    return found


def months_after(local: datetime, months: int) -> date:
    """`periods.add_months_local(local, months).date()` without rebuilding the datetime, memoised
    per (local day, months): a batch's clock starts share days."""
    key = (local.date(), months)
    found = _MONTHS.get(key)
    if found is None:
        if len(_MONTHS) >= _MEMO_LIMIT:
            _MONTHS.clear()
        index = local.month - 1 + months
        year, month = local.year + index // 12, index % 12 + 1
        found = _MONTHS[key] = date(year, month, min(local.day, monthrange(year, month)[1]))
    return found


DeadlineFn = Callable[[datetime, Mapping[str, datetime], Context, "RuleBook"], Dates]
ZoneFn = Callable[[Mapping[str, Any], "RuleBook"], ZoneInfo]
AmountFn = Callable[[Context], int]
_ZONES: dict[str, ZoneInfo] = {}


def zone_named(name: str) -> ZoneInfo:
    found = _ZONES.get(name)
    if found is None:
        found = _ZONES[name] = ZoneInfo(name)
    return found


def member_state_zone(entity: Mapping[str, Any], book: RuleBook) -> ZoneInfo:
    zone = book.member_state_zones.get(entity.get("member_state", ""))
    if zone is not None:
        return zone
    own = entity.get("timezone")
    return zone_named(own) if own else UTC_ZONE


def _entity_zone(entity: Mapping[str, Any], book: RuleBook) -> ZoneInfo:
    own = entity.get("timezone")
    return zone_named(own) if own else UTC_ZONE


def zone_resolver(spec: Any) -> ZoneFn:
    """`timing.resolve_zone` without the note, with the spec's shape decided once."""
    if isinstance(spec, ZoneByPrefix):
        prefix, default = spec.entity_timezone_prefix, zone_named(spec.default)

        def by_prefix(entity: Mapping[str, Any], book: RuleBook) -> ZoneInfo:
            own = entity.get("timezone")
            return zone_named(own) if own and own.startswith(prefix) else default

        return by_prefix
    if spec == "entity_timezone":
        return _entity_zone
    if spec == "member_state":
        return member_state_zone
    if spec is None:  # as timing.resolve_zone: refused when used, not at load
        return lambda entity, book: zone_named(spec)
    fixed = zone_named(spec)
    return lambda entity, book: fixed


def amount_of(spec: DeadlineSpec) -> AmountFn | int:
    """`timing._amount` without the note: a constant when nothing in the input can change it."""
    by, amount_if, multiplier = spec.amount_by_entity, spec.amount_if, spec.multiplier_if
    if by is not None:
        values, key, strictest = by.values, by.key, min(by.values.values())
        return lambda ctx: values.get(ctx.entity.get(key), strictest)
    base = spec.amount or 0
    if amount_if is None and multiplier is None:
        return base

    def amount(ctx: Context) -> int:
        value = base
        if amount_if is not None and ctx.facts.get(amount_if.fact) == amount_if.value:
            value = amount_if.amount
        if multiplier is not None and ctx.entity.get(multiplier.entity) is True:
            value *= multiplier.factor
        return value

    return amount


def _term_deadline(term: Term) -> Callable[[datetime, Mapping[str, Any], RuleBook], datetime]:
    amount = term.amount or 0
    if term.kind == "at_event":
        return lambda instant, entity, book: instant
    if term.kind == "elapsed_hours":
        step = timedelta(hours=amount)
        return lambda instant, entity, book: instant + step
    zone_of = zone_resolver(term.tz)
    if term.kind == "calendar_days":
        span = timedelta(days=amount)

        def calendar_days(instant: datetime, entity: Mapping[str, Any], book: RuleBook) -> datetime:
            zone = zone_of(entity, book)
            return end_of_day(instant.astimezone(zone).date() + span, zone)

        return calendar_days
    wall = time.fromisoformat(term.cutoff) if term.cutoff else periods.END_OF_DAY
    calendar = term.calendar
    assert calendar is not None

    def business(instant: datetime, entity: Mapping[str, Any], book: RuleBook) -> datetime:
        zone = zone_of(entity, book)
        due, _ = book.calendars.add_business_days(calendar, instant.astimezone(zone).date(), amount)
        return periods.local_to_utc(due, wall, zone)

    return business


def _earliest_of(spec: DeadlineSpec) -> DeadlineFn:
    terms = [
        (
            term.anchor,
            term.dropped_if.event if term.dropped_if else None,
            timedelta(hours=term.dropped_if.later_than_hours) if term.dropped_if else None,
            _term_deadline(term),
        )
        for term in spec.terms
    ]

    def earliest(instant: datetime, anchors: Mapping[str, datetime], ctx: Context, book: RuleBook) -> Dates:
        found: list[datetime] = []
        for anchor, drop_event, drop_after, deadline_of in terms:
            start = anchors.get(anchor)
            if start is None:
                continue
            other = anchors.get(drop_event) if drop_event is not None else None
            if other is not None and other - start > drop_after:  # type: ignore[operator]
                continue
            found.append(deadline_of(start, ctx.entity, book))
        return (min(found), None, None, None, None, None, False, None)

    return earliest


def _split(amount: AmountFn | int) -> tuple[int, AmountFn | None]:
    return (amount, None) if isinstance(amount, int) else (0, amount)


def _calendar_days(
    spec: DeadlineSpec, zone_of: ZoneFn, fixed_zone: ZoneInfo | None, amount: AmountFn | int
) -> DeadlineFn:
    day_one = spec.trigger_day_is_day_1
    roll = spec.alt_roll_forward.calendar if spec.alt_roll_forward else None
    extension = spec.extension
    check_us_fed = spec.possible_legal_extension
    fixed, varying = _split(amount)
    span = days(fixed - 1 if day_one else fixed)  # when the amount is fixed

    def calendar_days(instant: datetime, anchors: Mapping[str, datetime], ctx: Context, book: RuleBook) -> Dates:
        zone = fixed_zone or zone_of(ctx.entity, book)
        start = instant.astimezone(zone).date()
        if varying is None:
            count, due = fixed, start + span
        else:
            count = varying(ctx)
            due = start + days(count - 1 if day_one else count)
        alt = None
        if roll is not None:
            alt = end_of_day(book.calendars.roll_forward(roll, start + days(count)), zone)
        possible = check_us_fed and not book.calendars.is_business_day("US-FED", due)
        extra = None
        if extension is not None:
            extra = {extension.key: end_of_day(due + days(extension.days), zone)}
        deadline = _END_OF_DAY.get((due, zone)) or end_of_day(due, zone)  # end_of_day's memo, read without a call
        return (deadline, zone.key, due, alt, None, None, possible, extra)

    return calendar_days


def _local(
    spec: DeadlineSpec, cutoff: time | None, zone_of: ZoneFn, fixed_zone: ZoneInfo | None, amount: AmountFn | int
) -> DeadlineFn:
    """business_days, months, annual_batch, retention."""
    kind = spec.kind
    fixed, varying = _split(amount)
    if kind == "business_days":
        calendar, wall = spec.calendar, cutoff or periods.END_OF_DAY
        assert calendar is not None

        def business_days(instant: datetime, anchors: Mapping[str, datetime], ctx: Context, book: RuleBook) -> Dates:
            zone = fixed_zone or zone_of(ctx.entity, book)
            count = fixed if varying is None else varying(ctx)
            due, _ = book.calendars.add_business_days(calendar, instant.astimezone(zone).date(), count)
            return dated(periods.local_to_utc(due, wall, zone), zone.key, due)

        return business_days
    if kind == "months":
        alt_end_of_day = spec.alt_end_of_day

        def months(instant: datetime, anchors: Mapping[str, datetime], ctx: Context, book: RuleBook) -> Dates:
            zone = fixed_zone or zone_of(ctx.entity, book)
            count = fixed if varying is None else varying(ctx)
            local = instant.astimezone(zone)
            day = months_after(local, count)
            deadline = periods.local_to_utc(day, local.time(), zone)  # same wall time (and fold)
            end = (_END_OF_DAY.get((day, zone)) or end_of_day(day, zone)) if alt_end_of_day else None
            return (deadline, zone.key, day, end if end != deadline else None, None, None, False, None)

        return months
    if kind == "annual_batch":

        def annual(instant: datetime, anchors: Mapping[str, datetime], ctx: Context, book: RuleBook) -> Dates:
            zone = fixed_zone or zone_of(ctx.entity, book)
            count = fixed if varying is None else varying(ctx)
            due = date(instant.astimezone(zone).year, 12, 31) + days(count)
            return dated(end_of_day(due, zone), zone.key, due)

        return annual

    def retention(instant: datetime, anchors: Mapping[str, datetime], ctx: Context, book: RuleBook) -> Dates:
        zone = fixed_zone or zone_of(ctx.entity, book)
        count = fixed if varying is None else varying(ctx)
        until = months_after(instant.astimezone(zone), count)
        return (None, zone.key, None, None, None, until, False, None)

    return retention


def _by_kind(spec: DeadlineSpec, cutoff: time | None) -> DeadlineFn:
    kind = spec.kind
    if kind == "earliest_of":
        return _earliest_of(spec)
    if kind in ("no_fixed_deadline", "on_request"):
        return lambda instant, anchors, ctx, book: UNDATED
    amount = amount_of(spec)
    if kind == "elapsed_hours":
        if isinstance(amount, int):
            step = timedelta(hours=amount)
            return lambda instant, anchors, ctx, book: (instant + step, None, None, None, None, None, False, None)
        hours = amount
        return lambda instant, anchors, ctx, book: dated(instant + timedelta(hours=hours(ctx)))
    tz = spec.tz
    fixed_zone = zone_named(tz) if isinstance(tz, str) and tz not in ("entity_timezone", "member_state") else None
    zone_of = zone_resolver(tz)
    if kind == "calendar_days":
        return _calendar_days(spec, zone_of, fixed_zone, amount)
    return _local(spec, cutoff, zone_of, fixed_zone, amount)


def _with_relief(inner: DeadlineFn, relief_name: str, rule_id: str) -> DeadlineFn:
    """`timing.apply_relief` on the inner deadline (DORA RTS Art. 5(4)); the calendar answer is
    memoised per (zone, calendar, local day): many deadlines of a batch end on the same days."""
    moves: dict[tuple[ZoneInfo, str | None, date], tuple[date, datetime] | None] = {}  # bounded as _END_OF_DAY

    def relieved(instant: datetime, anchors: Mapping[str, datetime], ctx: Context, book: RuleBook) -> Dates:
        dates = inner(instant, anchors, ctx, book)
        strict = dates[0]
        if strict is None:
            return dates
        setting = ctx.memo.get(relief_name)  # per incident: False (disapplied) or (zone, calendar)
        if setting is None:
            setting = ctx.memo[relief_name] = _relief_setting(book, relief_name, ctx)  # type: ignore[assignment]
        if setting is False:
            return dates
        zone, calendar_name = setting  # type: ignore[misc]
        local_day = strict.astimezone(zone).date()
        key = (zone, calendar_name, local_day)
        if key in moves:
            move = moves[key]
        else:
            if len(moves) >= _MEMO_LIMIT:
                moves.clear()
            at = book.reliefs[relief_name].relief_time
            move = moves[key] = _relief_move(book, at, zone, calendar_name, local_day)
        if move is None:
            return dates
        relief = book.reliefs[relief_name]
        if rule_id in relief.no_relief_for:
            for check in relief.no_relief_when:
                if check.test(ctx) == TRUE:
                    return dates
        working, moved = move
        return (moved, dates[1] or zone.key, working, dates[3], strict, dates[5], dates[6], dates[7])

    return relieved


def _relief_setting(book: RuleBook, relief_name: str, ctx: Context) -> tuple[ZoneInfo, str | None] | bool:
    """False when the relief is disapplied for this incident, else the zone and calendar it uses."""
    for check in book.reliefs[relief_name].disapplied_when:
        if check.test(ctx) == TRUE:
            return False
    entity = ctx.entity
    code = entity.get("member_state")
    state = book.member_states.get(code or "")
    return member_state_zone(entity, book), (state.calendar or code) if state else None


def _relief_move(
    book: RuleBook, at: time, zone: ZoneInfo, calendar_name: str | None, local_day: date
) -> tuple[date, datetime] | None:
    """None on a working day; else the next working day and its relief time as a UTC instant."""
    if book.calendars.is_business_day(calendar_name, local_day):
        return None
    working = book.calendars.next_business_day(calendar_name, local_day)
    return working, periods.local_to_utc(working, at, zone)


def compile_deadline(spec: DeadlineSpec, cutoff: time | None, rule_id: str) -> DeadlineFn:
    """The deadline function of one timing: (anchor instant, all anchors, context, book) -> Dates."""
    inner = _by_kind(spec, cutoff)
    return inner if spec.relief is None else _with_relief(inner, spec.relief, rule_id)
