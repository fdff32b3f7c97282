"""The notification clock: every obligation an incident triggers, with its exact deadline.

Pure: rules come compiled from `load_rules()` (cached) and the input is a validated
`IncidentInput`; nothing here reads files, the network or the system clock.
The plan (plan.py, per set of event names) answers the dormant rules and lists the candidates;
each candidate's runner (steps.py) decides it and writes its answer into the incident's `Run`.
Deadlines come from the deadline-only functions compiled at load (deadlines.py). Explanations
are written only when read (`to_dict()`) by the incident's `Writer` (explain.py), not-triggered
reasons from a (function, arguments) tuple: an explanation re-runs the full computation
(timing.py), which also writes the arithmetic as text. A batch of 10,000 incidents mostly needs
the dates. Obligations keep their rule and timing and read the per-rule constants through them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from tocsin.clock.conditions import Context
from tocsin.clock.explain import Writer
from tocsin.clock.inputs import IncidentInput, parse_input
from tocsin.clock.plan import Plan, plan_for
from tocsin.clock.results import NotTriggered, Obligation, ObligationReport, display_order
from tocsin.clock.rules_loader import RuleBook, load_rules
from tocsin.clock.steps import Run


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
    events = incident.events
    plan = plan_for(book, frozenset(events), incident.options.get("include_proposed") is True)
    ctx = Context(incident.entity, incident.facts, events, incident.options, incident.processor)
    run = Run(book, ctx, incident.processor, plan, Writer(ctx, book))
    slots = run.slots
    if plan.keyed:
        _reopen_keyed(plan, incident.facts, slots)
    for position, runner in plan.steps:  # parents first
        if slots[position] is None:  # not answered above
            runner(run)
    obligations = run.obligations
    scope = incident.regimes_in_scope_only
    if scope is None:
        not_triggered: list[NotTriggered] = [*filter(None, slots)]  # owed rules hold None
    else:
        obligations, not_triggered = _in_scope(scope, book, slots, obligations)
    if len(obligations) > 1:
        obligations.sort(key=display_order)
    return ObligationReport(obligations, not_triggered, now)


def _reopen_keyed(plan: Plan, facts: Mapping[str, Any], slots: list[NotTriggered | None]) -> None:
    """The keyed candidates start answered as if their key were missing from the map (an incident names
    a few of the states): reopen those of the jurisdictions the map counts people in, all without a map."""
    for fact, keyed in plan.keyed:  # e.g. a residents map: the rules of each state it counts people in
        counts = facts.get(fact)
        if counts is None:
            for positions in keyed.values():
                for position in positions:
                    slots[position] = None
            continue
        for key, count in counts.items():
            if count > 0:
                for position in keyed.get(key, ()):
                    slots[position] = None


def _in_scope(
    scope: tuple[str, ...], book: RuleBook, slots: list[NotTriggered | None], obligations: list[Obligation]
) -> tuple[list[Obligation], list[NotTriggered]]:
    """Only the rules whose id starts with one of `scope`; the others are answered as outside it."""
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
