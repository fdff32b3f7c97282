"""Explanation text of an obligation, written only when it is read.

Each obligation keeps its incident's `Writer` (context and rule book), which calls `dated` or
`waiting` on first read: a batch of 10,000 incidents mostly needs the dates. `dated` runs the full computation
(`timing.compute`, with its arithmetic as text) that the deadline-only fast path skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from tocsin.clock import periods
from tocsin.clock.conditions import Context
from tocsin.clock.results import Obligation
from tocsin.clock.rules_loader import CompiledRule, RuleBook, Timing
from tocsin.clock.timing import compute


def because(rule: CompiledRule, ctx: Context) -> str:
    asserted: list[str] = []
    unasserted: list[str] = []
    rule.conditions.collect(ctx, asserted, unasserted)
    text = "; applies: " + (", ".join(asserted) if asserted else "clock-start event present")
    if unasserted:
        text += "; not asserted (does not block): " + ", ".join(unasserted)
    return text


def qualifier(rule: CompiledRule, kind: str) -> str:
    qualifier = rule.spec.qualifier
    return f"; {qualifier}" if qualifier and kind in ("no_fixed_deadline", "on_request") else ""


def dated(
    rule: CompiledRule,
    timing: Timing,
    kind: str,
    anchor: str,
    trigger: datetime,
    anchors: Mapping[str, datetime] | None,
    ctx: Context,
    book: RuleBook,
) -> str:
    """A dated (or undated but anchored) obligation: the deadline arithmetic and why the rule applies.
    `anchors` is None for a rule with one clock-start event (the trigger is its only anchor)."""
    anchors = {anchor: trigger} if anchors is None else anchors
    computed = compute(timing.deadline, timing.cutoff, anchors, anchor, rule.id, ctx, book)
    return f"{rule.id}{timing.label_text}: {computed.render()}{because(rule, ctx)}{qualifier(rule, kind)}"


def waiting(rule: CompiledRule, timing: Timing, kind: str, latest: datetime | None, ctx: Context) -> str:
    """No clock-start event yet: what it waits for, and the latest date if the previous step is late."""
    waiting_for = " / ".join(timing.clock.events)
    if kind == "pending_chained":
        text = f": waiting for {waiting_for}; the deadline runs from that instant"
    else:
        text = f": {waiting_for} not yet given"
    tail = ""
    if latest is not None:
        tail = f"; if the previous step happens at its own deadline, this one is due {periods.utc_text(latest)}"
    return f"{rule.id}{timing.label_text}{text}{because(rule, ctx)}{qualifier(rule, kind)}{tail}"


class Writer:
    """Writes the explanation of any obligation of one incident when it is first read (one per
    incident, shared by its obligations; holds no obligation, so it makes no reference cycle)."""

    __slots__ = ("book", "ctx")

    def __init__(self, ctx: Context, book: RuleBook) -> None:
        self.ctx = ctx
        self.book = book

    def __call__(self, item: Obligation) -> str:
        rule, timing, trigger = item._rule, item._timing, item.trigger_utc
        if trigger is None:
            return waiting(rule, timing, item.deadline_kind, item.latest_if_previous_submitted_at_deadline, self.ctx)
        anchors = None  # one clock-start event: the trigger is its only anchor
        if timing.only_event is None:
            events = self.ctx.events
            anchors = {name: events[name] for name in timing.clock.events if name in events}
        return dated(rule, timing, item.deadline_kind, item.trigger_event, trigger, anchors, self.ctx, self.book)  # type: ignore[arg-type]
