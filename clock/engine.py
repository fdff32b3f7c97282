"""The notification clock: every obligation an incident triggers, with its exact deadline.

Pure: rules come compiled from `load_rules()` (cached) and the input is a validated
`IncidentInput`; nothing here reads files, the network or the system clock.
Deadlines come from the deadline-only functions compiled at load (deadlines.py). Explanations
are written only when read (`to_dict()`) by the incident's `Writer` (explain.py), not-triggered
reasons from a (function, arguments) tuple: an explanation re-runs the full computation
(timing.py), which also writes the arithmetic as text. A batch of 10,000 incidents mostly needs
the dates. Obligations keep their rule and timing and read the per-rule constants through them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tocsin.clock import periods
from tocsin.clock.conditions import FALSE, Context
from tocsin.clock.deadlines import UNDATED
from tocsin.clock.explain import Writer
from tocsin.clock.inputs import IncidentInput, parse_input
from tocsin.clock.plan import Plan, display_order, follows_reason, plan_for
from tocsin.clock.recipients import recipients
from tocsin.clock.results import NotTriggered, Obligation, ObligationReport, new_obligation, not_triggered
from tocsin.clock.rules_loader import CompiledRule, RuleBook, Timing, load_rules


@dataclass(slots=True)
class _Run:
    """State of one evaluation: the inputs and what was decided for earlier rules."""

    book: RuleBook
    incident: IncidentInput
    ctx: Context
    owed: dict[str, list[Obligation]]
    quiet: dict[str, NotTriggered]
    writer: Writer  # explanations of this incident's obligations, written when read


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
    run = _Run(book, incident, ctx, {}, {}, Writer(ctx, book))
    owed, quiet = run.owed, run.quiet
    obligations: list[Obligation] = []
    facts = incident.facts
    for fact, key, members in plan.keyed:  # e.g. a state's rules and a residents map without that state
        counts = facts.get(fact)
        if counts is not None and counts.get(key, 0) <= 0:
            for rule_id, answer in members:
                quiet[rule_id] = answer  # a fixed reason, shared by every incident
    for rule in plan.candidates:  # parents first
        if rule.id in quiet:
            continue  # answered above
        outcome = _evaluate_rule(rule, run)
        if type(outcome) is list:
            owed[rule.id] = outcome
            obligations += outcome
        else:
            quiet[rule.id] = outcome  # type: ignore[assignment]
    scope = incident.regimes_in_scope_only
    if scope is None:
        slots = list(plan.slots)  # rules.yaml order: dormant rules answered by the plan, None for candidates
        position = book.position
        for rule_id, answer in quiet.items():
            slots[position[rule_id]] = answer
        for hole in plan.holes:  # last first: the positions before it do not move
            if slots[hole] is None:
                del slots[hole]  # an owed rule
        not_triggered = slots  # type: ignore[assignment]
    else:
        obligations, not_triggered = _in_scope(scope, book, plan, quiet, obligations)
    if len(obligations) > 1:
        obligations.sort(key=display_order(book))
    return ObligationReport(obligations, not_triggered, now)


def _in_scope(
    scope: tuple[str, ...], book: RuleBook, plan: Plan, quiet: dict[str, NotTriggered], obligations: list[Obligation]
) -> tuple[list[Obligation], list[NotTriggered]]:
    """Only the rules whose id starts with one of `scope`; the others are answered as outside it."""
    slots = list(plan.slots)
    for rule_id, answer in quiet.items():
        slots[book.position[rule_id]] = answer
    outside = f"outside regimes_in_scope_only ({', '.join(scope)})"
    kept = {rule_id for rule_id in book.position if rule_id.startswith(scope)}
    slots = [
        NotTriggered(rule_id, outside) if rule_id not in kept else slot
        for rule_id, slot in zip(book.position, slots, strict=True)
    ]
    return [item for item in obligations if item.rule in kept], [slot for slot in slots if slot is not None]


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


def _parent_not_owed(rule: CompiledRule, run: _Run) -> NotTriggered:
    parent = run.quiet.get(rule.follows[0])
    if parent is None:
        return NotTriggered(rule.id, follows_reason(rule, "not evaluated"))
    return NotTriggered(rule.id, (_follows_parent, rule, parent))


def _follows_parent(rule: CompiledRule, parent: NotTriggered) -> str:
    return follows_reason(rule, parent.reason)


def _evaluate_rule(rule: CompiledRule, run: _Run) -> list[Obligation] | NotTriggered:
    if len(rule.needs_keys) > 1:  # one needed key is settled by the plan's `keyed` pass in `evaluate`
        facts = run.incident.facts
        for fact, key, answer in rule.needs_keys:
            counts = facts.get(fact)
            if counts is not None and counts.get(key, 0) <= 0:
                return answer
    if rule.follows and run.owed.keys().isdisjoint(rule.follows):
        return _parent_not_owed(rule, run)
    ctx = run.ctx
    if rule.conditions.test(ctx) == FALSE:
        return not_triggered(rule.id, (rule.conditions.failure, ctx))
    items: list[Obligation] = []
    for timing in rule.timings:
        outcome = _timed(rule, timing, run)
        if type(outcome) is str:
            return not_triggered(rule.id, outcome)
        items.append(outcome)  # type: ignore[arg-type]
    if rule.own_recipient:
        return items  # the rule's own recipient, already set
    names = recipients(rule, ctx, run.book, run.incident.processor)
    if len(names) == 1:
        for item in items:
            item.recipient = names[0]
        return items
    return [item.copy_for(name) for name in names for item in items]


def _anchors(timing: Timing, events: Mapping[str, datetime]) -> tuple[str | None, dict[str, datetime]]:
    present: dict[str, datetime] = {}
    for name in timing.clock.events:
        if name in events:
            present[name] = events[name]
    if not present:
        return None, present
    if timing.combine == "latest":
        return max(present, key=present.__getitem__), present
    if timing.combine == "each":
        return min(present, key=present.__getitem__), present
    return next(iter(present)), present


def _not_yet_effective(rule: CompiledRule, anchor: str, trigger: datetime) -> str | None:
    zone = rule.effective_zone or periods.UTC_ZONE
    local_day = trigger.astimezone(zone).date()
    if rule.effective_from is not None and local_day < rule.effective_from:
        return (
            f"clock start {anchor} on {local_day:%Y-%m-%d} ({zone.key}) is before the rule's "
            f"effective date {rule.effective_from:%Y-%m-%d}"
        )
    return None


def _timed(rule: CompiledRule, timing: Timing, run: _Run) -> Obligation | str:
    only = timing.only_event
    anchors: dict[str, datetime] | None
    if only is not None:  # the common case: one clock-start event
        anchor, trigger = only, run.incident.events.get(only)
        anchors = {only: trigger} if trigger is not None and timing.needs_anchors else None
    elif timing.combine == "first" and not timing.needs_anchors:  # the first clock-start event given
        anchor, trigger, anchors = None, None, None
        events = run.incident.events
        for name in timing.clock.events:
            trigger = events.get(name)
            if trigger is not None:
                anchor = name
                break
    else:
        anchor, anchors = _anchors(timing, run.incident.events)
        trigger = anchors.get(anchor) if anchor is not None else None
    if trigger is None:
        if timing.clock.when_missing == "not_triggered":
            return f"clock-start event {' / '.join(timing.clock.events)} not given"
        return _waiting(rule, timing, run)
    surely = rule.surely_effective_from
    if surely is not None and trigger < surely:
        refusal = _not_yet_effective(rule, anchor, trigger)  # type: ignore[arg-type]
        if refusal is not None:
            return refusal
    ctx, book = run.ctx, run.book
    dates = timing.dates(trigger, anchors, ctx, book)  # type: ignore[misc,arg-type]  # set by make_timing
    item = new_obligation(rule, timing, dates, run.writer, timing.output_kind, anchor, trigger)
    if timing.chained:
        item.latest_if_previous_submitted_at_deadline = _latest_if(rule, timing, run)
    if timing.backstops:
        item.backstop_utc = _backstop(timing, run)
    return item


def _waiting(rule: CompiledRule, timing: Timing, run: _Run) -> Obligation:
    """No anchor yet: a chained report is pending; a no-period notice is still owed, undated."""
    pending = timing.clock.when_missing == "pending"
    output_kind = "pending_chained" if pending else _UNDATED_KIND.get(timing.deadline.kind, "no_fixed_deadline")
    latest = _latest_if(rule, timing, run)
    item = new_obligation(rule, timing, UNDATED, run.writer, output_kind, None, None, latest)
    if timing.backstops:
        item.backstop_utc = _backstop(timing, run)
    return item


_UNDATED_KIND = {"on_request": "on_request", "retention": "retention"}


def _parent_deadline(run: _Run, parent: str) -> datetime | None:
    for item in run.owed.get(parent, ()):
        found = item.deadline_utc or item.latest_if_previous_submitted_at_deadline
        if found is not None:
            return found
    return None


def _latest_if(rule: CompiledRule, timing: Timing, run: _Run) -> datetime | None:
    """The deadline if the anchoring step happened exactly at its own deadline."""
    for parent in timing.latest_parents:
        instant = _parent_deadline(run, parent)
        if instant is not None:
            anchors = {timing.clock.events[0]: instant} if timing.needs_anchors else None  # read by earliest_of only
            return timing.dates(instant, anchors, run.ctx, run.book)[0]  # type: ignore[misc,arg-type]
    return None


def _backstop(timing: Timing, run: _Run) -> datetime | None:
    found: list[datetime] = []
    for backstop in timing.backstops:
        if backstop.event is not None and backstop.event in run.incident.events:
            found.append(run.incident.events[backstop.event])
        if backstop.rule is not None:
            instant = _parent_deadline(run, backstop.rule)
            if instant is not None:
                found.append(instant)
    return min(found) if found else None
