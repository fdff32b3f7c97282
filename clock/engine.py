"""The notification clock: every obligation an incident triggers, with its exact deadline.

Pure: rules come compiled from `load_rules()` (cached) and the input is a validated
`IncidentInput`; nothing here reads files, the network or the system clock.
Not-triggered reasons and explanations are kept as the functions that write them and
rendered only when read (`to_dict()`): a batch of 10,000 incidents mostly needs the dates.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from tocsin.clock import periods
from tocsin.clock.conditions import FALSE, Context
from tocsin.clock.inputs import IncidentInput, parse_input
from tocsin.clock.plan import display_order, follows_reason, plan_for
from tocsin.clock.recipients import recipients
from tocsin.clock.results import NotTriggered, Obligation, ObligationReport
from tocsin.clock.rules_loader import CompiledRule, RuleBook, Timing, load_rules
from tocsin.clock.timing import Computed, compute

Reason = str | Callable[[], str]


@dataclass(slots=True)
class _Run:
    """State of one evaluation: the inputs and what was decided for earlier rules."""

    book: RuleBook
    incident: IncidentInput
    ctx: Context
    owed: dict[str, list[Obligation]]
    quiet: dict[str, NotTriggered]


def compute_obligations(
    entity: Mapping[str, Any] | None,
    facts: Mapping[str, Any] | None,
    events: Mapping[str, Any] | None,
    options: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    *,
    processor: Mapping[str, Any] | None = None,
    regimes_in_scope_only: list[str] | None = None,
    rules: RuleBook | None = None,
) -> ObligationReport:
    """Validate the inputs (as stored on an incident) and compute the obligation report."""
    book = rules or load_rules()
    document: dict[str, Any] = {"entity": entity, "facts": facts, "events": events, "options": options}
    if processor is not None:
        document["processor"] = processor
    if regimes_in_scope_only is not None:
        document["regimes_in_scope_only"] = regimes_in_scope_only
    return evaluate(parse_input(document, rules=book), book, now)


def evaluate(incident: IncidentInput, book: RuleBook | None = None, now: datetime | None = None) -> ObligationReport:
    """The obligation report of an already validated incident."""
    book = book or load_rules()
    ctx = Context(incident.entity, incident.facts, incident.events, incident.options, incident.processor)
    plan = plan_for(book, frozenset(incident.events), incident.options.get("include_proposed") is True)
    run = _Run(book, incident, ctx, {}, {})
    obligations: list[Obligation] = []
    slots = list(plan.slots)  # dormant rules are already answered; candidates fill their slot
    for position, rule in zip(plan.positions, plan.candidates, strict=True):  # parents first
        outcome = _evaluate_rule(rule, run)
        if type(outcome) is list:
            run.owed[rule.id] = outcome
            obligations.extend(outcome)
        else:
            slots[position] = run.quiet[rule.id] = NotTriggered(rule.id, outcome)  # type: ignore[arg-type]
    scope = incident.regimes_in_scope_only
    if scope is not None:
        outside = f"outside regimes_in_scope_only ({', '.join(scope)})"
        kept = {rule_id for rule_id in book.position if rule_id.startswith(scope)}
        obligations = [item for item in obligations if item.rule in kept]
        slots = [
            NotTriggered(rule_id, outside) if rule_id not in kept else slot
            for rule_id, slot in zip(book.position, slots, strict=True)
        ]
    not_triggered = [slot for slot in slots if slot is not None]
    if len(obligations) > 1:
        obligations.sort(key=display_order(book))
    return ObligationReport(obligations, not_triggered, now)


def evaluate_many(
    incidents: Iterable[IncidentInput], book: RuleBook | None = None, now: datetime | None = None
) -> list[ObligationReport]:
    """Reports for many incidents (e.g. every open incident). The cyclic garbage collector is
    paused meanwhile: the engine creates no reference cycles, and with 10,000 live reports the
    collector's repeated full scans cost as much as the computation itself."""
    book = book or load_rules()
    paused = gc.isenabled()
    gc.disable()
    try:
        return [evaluate(incident, book, now) for incident in incidents]
    finally:
        if paused:
            gc.enable()


def _because(rule: CompiledRule, ctx: Context) -> str:
    asserted: list[str] = []
    unasserted: list[str] = []
    rule.conditions.collect(ctx, asserted, unasserted)
    text = "; applies: " + (", ".join(asserted) if asserted else "clock-start event present")
    if unasserted:
        text += "; not asserted (does not block): " + ", ".join(unasserted)
    return text


def _parent_not_owed(rule: CompiledRule, run: _Run) -> Reason:
    parent = run.quiet.get(rule.follows[0])
    if parent is None:
        return follows_reason(rule, "not evaluated")
    return lambda: follows_reason(rule, parent.reason)


def _evaluate_rule(rule: CompiledRule, run: _Run) -> list[Obligation] | Reason:
    for fact, key, reason in rule.needs_keys:  # e.g. a state rule and a residents map without that state
        counts = run.incident.facts.get(fact)
        if counts is not None and counts.get(key, 0) <= 0:
            return reason
    if rule.follows and not any(parent in run.owed for parent in rule.follows):
        return _parent_not_owed(rule, run)
    ctx = run.ctx
    if rule.conditions.test(ctx) == FALSE:
        return partial(rule.conditions.failure, ctx)
    items: list[Obligation] = []
    for timing in rule.timings:
        outcome = _timed(rule, timing, run)
        if type(outcome) is str:
            return outcome
        items.append(outcome)  # type: ignore[arg-type]
    if rule.spec.recipient_by is None and not rule.additions:
        return items  # the rule's own recipient, already set
    names = recipients(rule, ctx, run.book, run.incident.processor)
    if len(names) == 1:
        for item in items:
            item.recipient = names[0]
        return items
    return [_with_recipient(item, name) for name in names for item in items]


def _with_recipient(item: Obligation, name: str) -> Obligation:
    copy = Obligation(*(getattr(item, slot) for slot in Obligation.__slots__))
    copy.recipient = name
    copy.extra = dict(item.extra)
    return copy


def _anchors(timing: Timing, events: Mapping[str, datetime]) -> tuple[str | None, dict[str, datetime]]:
    only = timing.only_event
    if only is not None:  # the common case: one clock-start event
        instant = events.get(only)
        return (None, {}) if instant is None else (only, {only: instant})
    present = {name: events[name] for name in timing.clock.events if name in events}
    if not present:
        return None, present
    if timing.clock.combine == "latest":
        return max(present, key=present.__getitem__), present
    if timing.clock.combine == "each":
        return min(present, key=present.__getitem__), present
    return next(iter(present)), present


def _timed(rule: CompiledRule, timing: Timing, run: _Run) -> Obligation | str:
    anchor, anchors = _anchors(timing, run.incident.events)
    if anchor is None:
        if timing.clock.when_missing == "not_triggered":
            return f"clock-start event {' / '.join(timing.clock.events)} not given"
        return _waiting(rule, timing, run)
    trigger = anchors[anchor]
    if rule.effective_from is not None:
        zone = rule.effective_zone or periods.UTC_ZONE
        local_day = trigger.astimezone(zone).date()
        if local_day < rule.effective_from:
            return (
                f"clock start {anchor} on {local_day:%Y-%m-%d} ({zone.key}) is before the rule's "
                f"effective date {rule.effective_from:%Y-%m-%d}"
            )
    ctx = run.ctx
    computed = compute(timing.deadline, timing.cutoff, anchors, anchor, rule.id, ctx, run.book)
    kind = timing.output_kind

    def explain() -> str:
        return f"{rule.id}{timing.label_text}: {computed.render()}{_because(rule, ctx)}{_qualifier(rule, kind)}"

    item = _obligation(rule, timing, kind, computed, explain, anchor, trigger)
    if timing.clock.latest_if_from:
        item.latest_if_previous_submitted_at_deadline = _latest_if(rule, timing, run)
    if timing.deadline.backstop:
        item.backstop_utc = _backstop(timing, run)
    return item


def _qualifier(rule: CompiledRule, kind: str) -> str:
    qualifier = rule.spec.qualifier
    return f"; {qualifier}" if qualifier and kind in ("no_fixed_deadline", "on_request") else ""


def _waiting(rule: CompiledRule, timing: Timing, run: _Run) -> Obligation:
    """No anchor yet: a chained report is pending; a no-period notice is still owed, undated."""
    pending = timing.clock.when_missing == "pending"
    output_kind = "pending_chained" if pending else _UNDATED_KIND.get(timing.deadline.kind, "no_fixed_deadline")
    latest = _latest_if(rule, timing, run)
    ctx = run.ctx

    def explain() -> str:
        waiting_for = " / ".join(timing.clock.events)
        if pending:
            text = f": waiting for {waiting_for}; the deadline runs from that instant"
        else:
            text = f": {waiting_for} not yet given"
        tail = ""
        if latest is not None:
            tail = f"; if the previous step happens at its own deadline, this one is due {periods.utc_text(latest)}"
        label = timing.label_text
        return f"{rule.id}{label}{text}{_because(rule, ctx)}{_qualifier(rule, output_kind)}{tail}"

    item = _obligation(rule, timing, output_kind, _UNDATED, explain, None, None)
    item.latest_if_previous_submitted_at_deadline = latest
    if timing.deadline.backstop:
        item.backstop_utc = _backstop(timing, run)
    return item


_UNDATED_KIND = {"on_request": "on_request", "retention": "retention"}
_UNDATED = Computed(None, [])  # read-only: an obligation without a computed date


def _obligation(
    rule: CompiledRule,
    timing: Timing,
    kind: str,
    computed: Computed,
    explain: Callable[[], str],
    trigger_event: str | None,
    trigger_utc: datetime | None,
) -> Obligation:
    spec = rule.spec
    alt = computed.alt
    if alt is not None and computed.deadline is not None and alt <= computed.deadline:
        alt = None  # only the later reading is informative
    # Positional, in field order (much cheaper than 24 keywords for ~80,000 obligations a batch).
    return Obligation(
        rule.id,  # rule
        spec.recipient,  # recipient
        kind,  # type: ignore[arg-type]  # deadline_kind
        computed.deadline,  # deadline_utc
        spec.citation,  # citation
        explain,  # _explanation
        spec.status,  # status
        spec.confidence,  # confidence
        spec.regime,  # regime
        spec.obligation,  # obligation
        trigger_event,  # trigger_event
        trigger_utc,  # trigger_utc
        computed.zone,  # day_boundary_tz
        computed.local_date if computed.zone else None,  # deadline_date_local
        alt,  # alt_deadline_utc
        computed.strict,  # strict_deadline_utc
        computed.retain_until,  # retain_until_local_date
        None,  # latest_if_previous_submitted_at_deadline
        None,  # backstop_utc
        computed.possible_extension,  # possible_legal_extension
        timing.label,  # phase
        computed.extra if computed.extra else {},  # extra (a fresh dict when empty: items own it)
        rule.sources,  # sources
        spec.confidence_notes,  # confidence_notes
    )


def _parent_deadline(run: _Run, parent: str) -> datetime | None:
    for item in run.owed.get(parent, ()):
        found = item.deadline_utc or item.latest_if_previous_submitted_at_deadline
        if found is not None:
            return found
    return None


def _latest_if(rule: CompiledRule, timing: Timing, run: _Run) -> datetime | None:
    """The deadline if the anchoring step happened exactly at its own deadline."""
    if timing.deadline.kind in ("no_fixed_deadline", "on_request", "retention", "earliest_of"):
        return None
    parents = [timing.clock.latest_if_from] if timing.clock.latest_if_from else []
    parents += [name.removeprefix("submitted:") for name in timing.clock.events if name.startswith("submitted:")]
    for parent in parents:
        instant = _parent_deadline(run, parent) if parent else None
        if instant is not None:
            anchor = timing.clock.events[0]
            computed = compute(timing.deadline, timing.cutoff, {anchor: instant}, anchor, rule.id, run.ctx, run.book)
            return computed.deadline
    return None


def _backstop(timing: Timing, run: _Run) -> datetime | None:
    found: list[datetime] = []
    for backstop in timing.deadline.backstop:
        if backstop.event is not None and backstop.event in run.incident.events:
            found.append(run.incident.events[backstop.event])
        if backstop.rule is not None:
            instant = _parent_deadline(run, backstop.rule)
            if instant is not None:
                found.append(instant)
    return min(found) if found else None
