"""From a rule's deadline spec and its anchor instant(s) to a deadline: zone choice, kind
dispatch (periods.py does the arithmetic), earliest-of terms and DORA weekend relief."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tocsin.clock import periods
from tocsin.clock.conditions import TRUE, Context
from tocsin.clock.deadlines import zone_named
from tocsin.clock.rules_loader import CompiledRelief, RuleBook
from tocsin.clock.schema import DeadlineSpec, Term, ZoneByPrefix

UTC_ZONE = periods.UTC_ZONE


@dataclass(slots=True)
class Computed:
    """A computed deadline; `notes` are text pieces, plain or deferred (see `render`)."""

    deadline: datetime | None
    notes: list[str | periods.Text]
    zone: str | None = None
    alt: datetime | None = None
    strict: datetime | None = None
    retain_until: date | None = None
    local_date: date | None = None
    possible_extension: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        return "".join(note if isinstance(note, str) else note() for note in self.notes)


def resolve_zone(spec: Any, entity: Mapping[str, Any], book: RuleBook) -> tuple[ZoneInfo, str]:
    """The day-boundary zone and a note when it had to fall back."""
    if isinstance(spec, ZoneByPrefix):
        own = entity.get("timezone")
        if own and own.startswith(spec.entity_timezone_prefix):
            return zone_named(own), ""
        return zone_named(spec.default), ""
    if spec == "entity_timezone":
        own = entity.get("timezone")
        return (zone_named(own), "") if own else (UTC_ZONE, " (entity.timezone not given: UTC used)")
    if spec == "member_state":
        state = book.table.member_states.get(entity.get("member_state", ""))
        if state is not None:
            return zone_named(state.zone), ""
        own = entity.get("timezone")
        note = " (entity.member_state not given: entity.timezone used)"
        return (zone_named(own), note) if own else (UTC_ZONE, " (no member_state or timezone: UTC used)")
    return zone_named(spec), ""


def _amount(spec: DeadlineSpec, ctx: Context) -> tuple[int, str]:
    if spec.amount_by_entity is not None:
        by = spec.amount_by_entity
        value = ctx.entity.get(by.key)
        if value in by.values:
            return by.values[value], f" ({by.key} {value})"
        return min(by.values.values()), f" ({by.key} not given: strictest period used)"
    amount = spec.amount or 0
    note = ""
    if spec.amount_if is not None and ctx.facts.get(spec.amount_if.fact) == spec.amount_if.value:
        amount, note = spec.amount_if.amount, f" ({spec.amount_if.fact}={spec.amount_if.value})"
    if spec.multiplier_if is not None and ctx.entity.get(spec.multiplier_if.entity) is True:
        amount *= spec.multiplier_if.factor
        note += f" ({spec.multiplier_if.entity}: x{spec.multiplier_if.factor})"
    return amount, note


def _term(term: Term, instant: datetime, entity: Mapping[str, Any], book: RuleBook) -> tuple[datetime, periods.Text]:
    """One earliest_of term: its deadline and the function writing its arithmetic."""
    if term.kind == "at_event":
        return instant, lambda: f"{term.anchor} {periods.utc_text(instant)} (at the event)"
    if term.kind == "elapsed_hours":
        period = periods.elapsed_hours(term.anchor, instant, term.amount or 0)
        return period.deadline, period.text
    zone, note = resolve_zone(term.tz, entity, book)
    if term.kind == "calendar_days":
        period = periods.calendar_days(term.anchor, instant, term.amount or 0, zone)
    else:
        cutoff = time.fromisoformat(term.cutoff) if term.cutoff else None
        assert term.calendar is not None
        period = periods.business_days(
            term.anchor, instant, term.amount or 0, zone, book.calendars, term.calendar, cutoff
        )
    text = period.text
    return period.deadline, (lambda: text() + note) if note else text


def earliest_of(spec: DeadlineSpec, anchors: Mapping[str, datetime], ctx: Context, book: RuleBook) -> Computed:
    candidates: list[tuple[datetime, periods.Text]] = []
    skipped: list[str] = []
    for term in spec.terms:
        instant = anchors.get(term.anchor)
        if instant is None:
            skipped.append(f"{term.anchor} not given")
            continue
        drop = term.dropped_if
        other = anchors.get(drop.event) if drop else None
        if drop is not None and other is not None and other - instant > timedelta(hours=drop.later_than_hours):
            skipped.append(
                f"{term.kind} term from {term.anchor} dropped: {drop.event} came more than "
                f"{drop.later_than_hours:g} h after it"
            )
            continue
        candidates.append(_term(term, instant, ctx.entity, book))
    deadline, chosen_text = min(candidates, key=lambda item: item[0])

    def text() -> str:
        chosen = chosen_text()
        others = [rendered for rendered in (write() for _, write in candidates) if rendered != chosen]
        text = f"earliest of: {chosen}"
        if others:
            text += "; later term: " + "; ".join(others)
        if skipped:
            text += "; " + "; ".join(skipped)
        return text

    return Computed(deadline, [text])


def apply_relief(relief: CompiledRelief, rule_id: str, computed: Computed, ctx: Context, book: RuleBook) -> Computed:
    """DORA RTS Art. 5(4): a deadline on a weekend/bank holiday moves to 12:00 of the next working day."""
    strict = computed.deadline
    if strict is None:
        return computed
    if any(check.test(ctx) == TRUE for check in relief.disapplied_when):
        computed.notes.append("; weekend relief disapplied by the competent authority (Art. 5(6))")
        return computed
    zone, note = resolve_zone("member_state", ctx.entity, book)
    code = ctx.entity.get("member_state")
    state = book.table.member_states.get(code or "")
    calendar_name = (state.calendar or code) if state else None
    local_day = strict.astimezone(zone).date()
    if book.calendars.is_business_day(calendar_name, local_day):
        return computed
    if rule_id in relief.no_relief_for and any(check.test(ctx) == TRUE for check in relief.no_relief_when):
        computed.notes.append(
            lambda: (
                f"; falls on {local_day:%a %Y-%m-%d} ({zone.key}) but no weekend relief for this report "
                "(credit institution / CCP / trading venue / NIS2 essential or important entity, Art. 5(5))"
            )
        )
        return computed
    working = book.calendars.next_business_day(calendar_name, local_day)
    relieved = periods.local_to_utc(working, relief.relief_time, zone)
    holiday_calendar = calendar_name or "weekends only"
    computed.notes.append(
        lambda: (
            f"; strict deadline falls on {local_day:%a %Y-%m-%d} in {zone.key}{note} (non-working day, "
            f"calendar {holiday_calendar}): relief to {working:%a %Y-%m-%d} {relief.relief_time:%H:%M} local = "
            f"{periods.utc_text(relieved)} ({relief.spec.citation})"
        )
    )
    computed.strict, computed.deadline, computed.local_date = strict, relieved, working
    computed.zone = computed.zone or zone.key
    return computed


def compute(
    spec: DeadlineSpec,
    cutoff: time | None,
    anchors: Mapping[str, datetime],
    anchor: str,
    rule_id: str,
    ctx: Context,
    book: RuleBook,
) -> Computed:
    """The deadline of one obligation, anchored at `anchors[anchor]` (all anchors for earliest_of)."""
    kind = spec.kind
    if kind == "earliest_of":
        computed = earliest_of(spec, anchors, ctx, book)
    else:
        instant = anchors[anchor]
        amount, note = _amount(spec, ctx)
        if kind in ("no_fixed_deadline", "on_request"):
            computed = Computed(None, [lambda: f"{anchor} {periods.utc_text(instant)}"])
        elif kind == "elapsed_hours":
            period = periods.elapsed_hours(anchor, instant, amount)
            computed = Computed(period.deadline, [period.text, note])
        else:
            zone, zone_note = resolve_zone(spec.tz, ctx.entity, book)
            computed = _local_kind(spec, kind, cutoff, anchor, instant, amount, zone, book)
            computed.notes += (note, zone_note)
            computed.zone = zone.key
    if spec.relief is not None:
        computed = apply_relief(book.reliefs[spec.relief], rule_id, computed, ctx, book)
    return computed


def _local_kind(
    spec: DeadlineSpec,
    kind: str,
    cutoff: time | None,
    anchor: str,
    instant: datetime,
    amount: int,
    zone: ZoneInfo,
    book: RuleBook,
) -> Computed:
    if kind == "calendar_days":
        period = periods.calendar_days(anchor, instant, amount, zone, day_one=spec.trigger_day_is_day_1)
        computed = Computed(period.deadline, [period.text], local_date=period.local_date)
        if spec.alt_roll_forward is not None:
            plain = instant.astimezone(zone).date() + timedelta(days=amount)
            alt, rolled = periods.roll_forward_end_of_day(plain, zone, book.calendars, spec.alt_roll_forward.calendar)
            computed.alt = alt
            calendar = spec.alt_roll_forward.calendar
            computed.notes.append(
                lambda: (
                    f"; alternative reading: D0 + {amount} = {plain:%Y-%m-%d}, rolled past weekends/holidays "
                    f"({calendar}) to {rolled:%Y-%m-%d} = {periods.utc_text(alt)}"
                )
            )
        if spec.possible_legal_extension and not book.calendars.is_business_day("US-FED", period.local_date):
            computed.possible_extension = True
            local_date = period.local_date
            computed.notes.append(
                lambda: (
                    f"; ends on a {book.calendars.holiday_name('US-FED', local_date)}: a general-construction "
                    "statute may extend it (not applied: earlier = safe)"
                )
            )
        if spec.extension is not None:
            extended = periods.end_of_day(period.local_date + timedelta(days=spec.extension.days), zone)
            computed.extra[spec.extension.key] = extended
        return computed
    if kind == "business_days":
        assert spec.calendar is not None
        period = periods.business_days(anchor, instant, amount, zone, book.calendars, spec.calendar, cutoff)
        return Computed(period.deadline, [period.text], local_date=period.local_date)
    if kind == "months":
        period, end_of_day = periods.months_later(anchor, instant, amount, zone)
        computed = Computed(period.deadline, [period.text], local_date=period.local_date)
        if spec.alt_end_of_day and end_of_day != period.deadline:
            computed.alt = end_of_day
            computed.notes.append(lambda: f"; Reg. 1182/71 end-of-day reading: {periods.utc_text(end_of_day)}")
        return computed
    if kind == "annual_batch":
        period = periods.annual_batch(anchor, instant, amount, zone)
        return Computed(period.deadline, [period.text], local_date=period.local_date)
    until, text = periods.retention_until(anchor, instant, amount, zone)
    return Computed(None, [text], retain_until=until)
