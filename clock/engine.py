"""The notification clock: every obligation an incident triggers, with its exact deadline.

Pure: rules come compiled from `load_rules()` (cached) and the input is a validated
`IncidentInput`; nothing here reads files, the network or the system clock.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from tocsin.clock import periods
from tocsin.clock.conditions import FALSE, Context
from tocsin.clock.inputs import IncidentInput, parse_input
from tocsin.clock.recipients import recipients
from tocsin.clock.results import NotTriggered, Obligation, ObligationReport
from tocsin.clock.rules_loader import CompiledRule, RuleBook, Timing, load_rules
from tocsin.clock.timing import Computed, compute

_OUTPUT_KIND = {
    "no_fixed_deadline": "no_fixed_deadline",
    "on_request": "on_request",
    "retention": "retention",
}


@dataclass(slots=True)
class _Run:
    """State of one evaluation: the inputs and what was decided for earlier rules."""

    book: RuleBook
    incident: IncidentInput
    ctx: Context
    owed: dict[str, list[Obligation]]
    reasons: dict[str, str]
    include_proposed: bool


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
    include_proposed = incident.options.get("include_proposed") is True
    plan = _plan(book, frozenset(incident.events), include_proposed)
    run = _Run(book, incident, ctx, {}, {}, include_proposed)
    for rule in plan.candidates:
        outcome = _evaluate_rule(rule, run)
        if isinstance(outcome, str):
            run.reasons[rule.id] = outcome
        else:
            run.owed[rule.id] = outcome
    scope = incident.regimes_in_scope_only
    obligations: list[Obligation] = []
    slots = list(plan.slots)  # dormant rules are already answered; candidates fill their slot
    for position, rule in zip(plan.positions, plan.candidates, strict=True):
        owed = run.owed.get(rule.id)
        if owed is None:
            slots[position] = NotTriggered(rule.id, run.reasons[rule.id])
        else:
            obligations.extend(owed)
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
        obligations.sort(key=_display_order(book))
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


@dataclass(frozen=True, slots=True)
class _Plan:
    """For one set of present events: the rules worth evaluating, and fixed answers for the rest."""

    candidates: tuple[CompiledRule, ...]  # parents first
    positions: tuple[int, ...]  # each candidate's place in rules.yaml order
    slots: tuple[NotTriggered | None, ...]  # rules.yaml order; None where a candidate goes


_PROPOSED = "proposed rule, not in force (options.include_proposed is false)"


@lru_cache(maxsize=4096)
def _plan(book: RuleBook, present: frozenset[str], include_proposed: bool) -> _Plan:
    """A rule is dormant when its clock-start event is absent (or its parent is dormant): its
    reason is fixed, so incidents with the same event names share the decision."""
    dormant: dict[str, NotTriggered] = {}
    candidates: list[CompiledRule] = []
    for rule in book.rules:
        if rule.proposed and not include_proposed:
            dormant[rule.id] = NotTriggered(rule.id, _PROPOSED)
            continue
        first = rule.timings[0].clock
        if rule.absent_reason is not None and present.isdisjoint(first.events):
            dormant[rule.id] = NotTriggered(rule.id, rule.absent_reason)
            continue
        if rule.follows and all(parent in dormant for parent in rule.follows):
            root = dormant[rule.follows[0]].reason.split(" which is not owed: ")[-1]
            reason = f"follows {' / '.join(rule.follows)}, which is not owed: {root}"
            dormant[rule.id] = NotTriggered(rule.id, reason)
            continue
        candidates.append(rule)
    slots = tuple(dormant.get(rule_id) for rule_id in book.position)
    return _Plan(tuple(candidates), tuple(book.position[rule.id] for rule in candidates), slots)


def _display_order(book: RuleBook) -> Any:
    far = datetime.max.replace(tzinfo=None)

    def key(item: Obligation) -> tuple[bool, datetime, int]:
        deadline = item.deadline_utc.replace(tzinfo=None) if item.deadline_utc else far
        return item.deadline_utc is None, deadline, book.position[item.rule]

    return key


def _because(rule: CompiledRule, ctx: Context) -> str:
    asserted: list[str] = []
    unasserted: list[str] = []
    rule.conditions.collect(ctx, asserted, unasserted)
    text = "; applies: " + (", ".join(asserted) if asserted else "clock-start event present")
    if unasserted:
        text += "; not asserted (does not block): " + ", ".join(unasserted)
    return text


def _evaluate_rule(rule: CompiledRule, run: _Run) -> list[Obligation] | str:
    for fact, key, reason in rule.needs_keys:  # e.g. a state rule and a residents map without that state
        counts = run.incident.facts.get(fact)
        if counts is not None and counts.get(key, 0) <= 0:
            return reason
    if rule.follows and not any(parent in run.owed for parent in rule.follows):
        parent = rule.follows[0]
        root = run.reasons.get(parent, "not evaluated").split(" which is not owed: ")[-1]
        return f"follows {' / '.join(rule.follows)}, which is not owed: {root}"
    if rule.conditions.test(run.ctx) == FALSE:
        return rule.conditions.failure(run.ctx)
    items: list[Obligation] = []
    for timing in rule.timings:
        outcome = _timed(rule, timing, run)
        if isinstance(outcome, str):
            return outcome
        items.append(outcome)
    names = recipients(rule, run.ctx, run.book, run.incident.processor)
    if len(names) == 1:
        for item in items:
            item.recipient = names[0]
        return items
    return [_with_recipient(item, name) for name in names for item in items]


def _with_recipient(item: Obligation, name: str) -> Obligation:
    copy = Obligation(**{slot: getattr(item, slot) for slot in Obligation.__slots__})
    copy.recipient = name
    copy.extra = dict(item.extra)
    return copy


def _anchors(timing: Timing, events: Mapping[str, datetime]) -> tuple[str | None, dict[str, datetime]]:
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
    label = f" [{timing.label}]" if timing.label else ""
    if anchor is None:
        if timing.clock.when_missing == "not_triggered":
            return f"clock-start event {' / '.join(timing.clock.events)} not given"
        return _waiting(rule, timing, run, label)
    trigger = anchors[anchor]
    if rule.effective_from is not None:
        zone = rule.effective_zone or periods.UTC_ZONE
        local_day = trigger.astimezone(zone).date()
        if local_day < rule.effective_from:
            return (
                f"clock start {anchor} on {local_day:%Y-%m-%d} ({zone.key}) is before the rule's "
                f"effective date {rule.effective_from:%Y-%m-%d}"
            )
    computed = compute(timing.deadline, timing.cutoff, anchors, anchor, rule.id, run.ctx, run.book)
    kind = timing.deadline.output_kind or _OUTPUT_KIND.get(timing.deadline.kind, "fixed")
    ctx = run.ctx

    def explain() -> str:
        return f"{rule.id}{label}: {computed.render()}{_because(rule, ctx)}{_qualifier(rule, kind)}"

    item = _obligation(rule, timing, kind, computed, explain)
    item.trigger_event, item.trigger_utc = anchor, trigger
    if timing.clock.latest_if_from:
        item.latest_if_previous_submitted_at_deadline = _latest_if(rule, timing, run)
    item.backstop_utc = _backstop(timing, run)
    return item


def _qualifier(rule: CompiledRule, kind: str) -> str:
    qualifier = rule.spec.qualifier
    return f"; {qualifier}" if qualifier and kind in ("no_fixed_deadline", "on_request") else ""


def _waiting(rule: CompiledRule, timing: Timing, run: _Run, label: str) -> Obligation:
    """No anchor yet: a chained report is pending; a no-period notice is still owed, undated."""
    waiting_for = " / ".join(timing.clock.events)
    if timing.clock.when_missing == "pending":
        output_kind = "pending_chained"
        text = f": waiting for {waiting_for}; the deadline runs from that instant"
    else:
        output_kind = _OUTPUT_KIND.get(timing.deadline.kind, "no_fixed_deadline")
        text = f": {waiting_for} not yet given"
    latest = _latest_if(rule, timing, run)
    ctx = run.ctx

    def explain() -> str:
        tail = ""
        if latest is not None:
            tail = f"; if the previous step happens at its own deadline, this one is due {periods.utc_text(latest)}"
        return f"{rule.id}{label}{text}{_because(rule, ctx)}{_qualifier(rule, output_kind)}{tail}"

    item = _obligation(rule, timing, output_kind, Computed(None, []), explain)
    item.latest_if_previous_submitted_at_deadline = latest
    item.backstop_utc = _backstop(timing, run)
    return item


def _obligation(rule: CompiledRule, timing: Timing, kind: str, computed: Computed, explain: Any) -> Obligation:
    spec = rule.spec
    alt = computed.alt
    if alt is not None and computed.deadline is not None and alt <= computed.deadline:
        alt = None  # only the later reading is informative
    return Obligation(
        rule=rule.id,
        recipient=spec.recipient,
        deadline_kind=kind,  # type: ignore[arg-type]
        deadline_utc=computed.deadline,
        citation=spec.citation,
        _explanation=explain,
        status=spec.status,
        confidence=spec.confidence,
        regime=spec.regime,
        obligation=spec.obligation,
        day_boundary_tz=computed.zone,
        deadline_date_local=computed.local_date if computed.zone else None,
        alt_deadline_utc=alt,
        strict_deadline_utc=computed.strict,
        retain_until_local_date=computed.retain_until,
        possible_legal_extension=computed.possible_extension,
        phase=timing.label,
        extra=computed.extra,
        sources=rule.sources,
        confidence_notes=spec.confidence_notes,
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
