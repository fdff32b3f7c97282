"""How one candidate rule is decided for one incident: a runner per rule, made once per rule book.

A runner writes its answer into the incident's `Run`: the rule's obligations (`owed`, `obligations`)
or why it is not triggered (`slots`, in rules.yaml order). The rule's constants (conditions, timing,
deadline function, recipients) are bound when the runner is made, and a rule with one timing (all
but one) is decided in that one call: a batch evaluates ~110,000 rules per 10,000 incidents, so each
call and attribute read saved on this path counts. `_timed` is the same decision for one timing of
a rule with phases; tests/clock/test_runners.py checks that both answer alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tocsin.clock import periods
from tocsin.clock.conditions import FALSE, Context
from tocsin.clock.deadlines import UNDATED
from tocsin.clock.recipients import resolver
from tocsin.clock.results import NotTriggered, Obligation, new_obligation, not_triggered

if TYPE_CHECKING:
    from tocsin.clock.explain import Writer
    from tocsin.clock.plan import Plan
    from tocsin.clock.rules_loader import CompiledRule, RuleBook, Timing

NOT_OWED = " which is not owed: "


class Run:
    """One incident's evaluation: its inputs and what was decided for the rules before."""

    __slots__ = ("book", "ctx", "obligations", "owed", "planned", "processor", "slots", "writer")

    def __init__(
        self, book: RuleBook, ctx: Context, processor: Mapping[str, Any] | None, plan: Plan, writer: Writer
    ) -> None:
        self.book = book
        self.ctx = ctx
        self.processor = processor
        self.planned = plan.slots  # the plan's fixed answers: None where a candidate goes
        self.slots: list[NotTriggered | None] = list(plan.answered)  # every rule's answer; None while owed
        self.writer = writer  # explanations of this incident's obligations, written when read
        self.owed: dict[str, Sequence[Obligation]] = {}  # of the rules that other rules read (`read_rules`)
        self.obligations: list[Obligation] = []


Runner = Callable[[Run], None]


def follows_reason(rule: CompiledRule, parent_reason: str) -> str:
    """Why a follow-up report is not owed: its parent is not, for the parent's root reason."""
    root = parent_reason.split(NOT_OWED)[-1]
    return f"follows {' / '.join(rule.follows)},{NOT_OWED}{root}"


def read_rules(rules: Sequence[CompiledRule]) -> set[str]:
    """The rules whose obligations other rules read: parents they follow, chain from or backstop on."""
    read: set[str] = set()
    for rule in rules:
        read.update(rule.follows)
        for timing in rule.timings:
            read.update(timing.latest_parents)
            read.update(backstop.rule for backstop in timing.backstops if backstop.rule is not None)
    return read


def compile_runner(rule: CompiledRule, read: bool, *, phased: bool = False) -> Runner:
    """The runner of `rule`; `read`: other rules read its obligations (kept in `Run.owed`);
    `phased` forces the general form (one `_timed` call per timing)."""
    if phased or len(rule.timings) > 1:
        return _phased(rule, read)
    return _single(rule, read)


def _single(rule: CompiledRule, read: bool) -> Runner:
    """A rule with one timing: `_phased` with `_timed` written out, the usual one-event anchor first."""
    rule_id, position, follows, conditions = rule.id, rule.position, rule.follows, rule.conditions
    test, keys = conditions.test, rule.needs_keys if len(rule.needs_keys) > 1 else ()
    timing = rule.timings[0]
    dates_of, kind, surely = timing.dates, timing.output_kind, rule.surely_effective_from
    only = None if timing.needs_anchors else timing.only_event  # else anchored by `_anchor`
    extras = timing.chained or bool(timing.backstops)
    addressed = resolver(rule)
    assert dates_of is not None

    def run(state: Run) -> None:
        ctx = state.ctx
        if keys:  # one needed key is settled by the plan's keyed pass in the engine
            answer = _missing_key(keys, ctx.facts)
            if answer is not None:
                state.slots[position] = answer
                return
        if follows and state.owed.keys().isdisjoint(follows):
            state.slots[position] = _parent_not_owed(rule, state)
            return
        if test(ctx) == FALSE:
            state.slots[position] = not_triggered(rule_id, (conditions.failure, ctx))
            return
        if only is not None:
            anchor, trigger, anchors = only, ctx.events.get(only), None
        else:
            anchor, trigger, anchors = _anchor(timing, ctx.events)
        if trigger is None:
            item = _missing(rule, timing, state)
            if type(item) is str:
                state.slots[position] = not_triggered(rule_id, item)
                return
        else:
            if surely is not None and trigger < surely:
                refusal = _not_yet_effective(rule, anchor, trigger)  # type: ignore[arg-type]
                if refusal is not None:
                    state.slots[position] = not_triggered(rule_id, refusal)
                    return
            dates = dates_of(trigger, anchors, ctx, state.book)  # type: ignore[arg-type]
            item = new_obligation(rule, timing, dates, state.writer, kind, anchor, trigger)
            if extras:
                _chain_and_backstop(item, rule, timing, state)
        if addressed is not None:  # else the rule's own recipient, already set
            names = addressed(rule, ctx, state.book, state.processor)
            if len(names) > 1:
                _address(rule_id, read, [item], names, state)  # type: ignore[list-item]
                return
            item.recipient = names[0]  # type: ignore[union-attr]
        if read:
            state.owed[rule_id] = (item,)  # type: ignore[assignment]
        state.obligations.append(item)  # type: ignore[arg-type]

    return run


def _phased(rule: CompiledRule, read: bool) -> Runner:
    rule_id, position, conditions, addressed = rule.id, rule.position, rule.conditions, resolver(rule)

    def run(state: Run) -> None:
        ctx = state.ctx
        if len(rule.needs_keys) > 1:
            answer = _missing_key(rule.needs_keys, ctx.facts)
            if answer is not None:
                state.slots[position] = answer
                return
        if rule.follows and state.owed.keys().isdisjoint(rule.follows):
            state.slots[position] = _parent_not_owed(rule, state)
            return
        if conditions.test(ctx) == FALSE:
            state.slots[position] = not_triggered(rule_id, (conditions.failure, ctx))
            return
        items: list[Obligation] = []
        for timing in rule.timings:
            outcome = _timed(rule, timing, state)
            if type(outcome) is str:
                state.slots[position] = not_triggered(rule_id, outcome)
                return
            items.append(outcome)  # type: ignore[arg-type]
        names = [rule.recipient] if addressed is None else addressed(rule, ctx, state.book, state.processor)
        _address(rule_id, read, items, names, state)

    return run


def _address(rule_id: str, read: bool, items: list[Obligation], names: Sequence[str], state: Run) -> None:
    """The obligations owed to each recipient: the items themselves for one, copies for several."""
    if len(names) == 1:
        for item in items:
            item.recipient = names[0]
    else:
        items = [item.copy_for(name) for name in names for item in items]
    if read:
        state.owed[rule_id] = items
    state.obligations += items


def _missing_key(keys: tuple[tuple[str, str, NotTriggered], ...], facts: Mapping[str, Any]) -> NotTriggered | None:
    """The fixed answer of a per-jurisdiction threshold whose key the given map lacks."""
    for fact, key, answer in keys:
        counts = facts.get(fact)
        if counts is not None and counts.get(key, 0) <= 0:
            return answer
    return None


def _parent_not_owed(rule: CompiledRule, state: Run) -> NotTriggered:
    position = state.book.position[rule.follows[0]]
    parent = state.slots[position] if state.planned[position] is None else None  # decided for this incident
    if parent is None:
        return NotTriggered(rule.id, follows_reason(rule, "not evaluated"))
    return NotTriggered(rule.id, (_follows_parent, rule, parent))


def _follows_parent(rule: CompiledRule, parent: NotTriggered) -> str:
    return follows_reason(rule, parent.reason)


def _timed(rule: CompiledRule, timing: Timing, state: Run) -> Obligation | str:
    """One timing's obligation, or why the rule is not triggered."""
    anchor, trigger, anchors = _anchor(timing, state.ctx.events)
    if trigger is None:
        return _missing(rule, timing, state)
    surely = rule.surely_effective_from
    if surely is not None and trigger < surely:
        refusal = _not_yet_effective(rule, anchor, trigger)  # type: ignore[arg-type]
        if refusal is not None:
            return refusal
    dates = timing.dates(trigger, anchors, state.ctx, state.book)  # type: ignore[misc,arg-type]  # set by make_timing
    item = new_obligation(rule, timing, dates, state.writer, timing.output_kind, anchor, trigger)
    _chain_and_backstop(item, rule, timing, state)
    return item


def _anchor(
    timing: Timing, events: Mapping[str, datetime]
) -> tuple[str | None, datetime | None, dict[str, datetime] | None]:
    """(clock-start event, its instant, every anchor given when the deadline reads them all)."""
    only = timing.only_event
    if only is not None:  # the common case: one clock-start event
        trigger = events.get(only)
        return only, trigger, {only: trigger} if trigger is not None and timing.needs_anchors else None
    if timing.combine == "first" and not timing.needs_anchors:  # the first clock-start event given
        for name in timing.events:
            trigger = events.get(name)
            if trigger is not None:
                return name, trigger, None
        return None, None, None
    present: dict[str, datetime] = {}
    for name in timing.events:
        if name in events:
            present[name] = events[name]
    if not present:
        return None, None, present
    if timing.combine == "latest":
        anchor = max(present, key=present.__getitem__)
    elif timing.combine == "each":
        anchor = min(present, key=present.__getitem__)
    else:
        anchor = next(iter(present))
    return anchor, present[anchor], present


def _not_yet_effective(rule: CompiledRule, anchor: str, trigger: datetime) -> str | None:
    zone = rule.effective_zone or periods.UTC_ZONE
    local_day = trigger.astimezone(zone).date()
    if rule.effective_from is not None and local_day < rule.effective_from:
        return (
            f"clock start {anchor} on {local_day:%Y-%m-%d} ({zone.key}) is before the rule's "
            f"effective date {rule.effective_from:%Y-%m-%d}"
        )
    return None


def _missing(rule: CompiledRule, timing: Timing, state: Run) -> Obligation | str:
    """No clock-start event yet: not triggered, or a chained report pending, or a notice owed undated."""
    if timing.when_missing == "not_triggered":
        return timing.missing_reason
    latest = _latest_if(rule, timing, state) if timing.latest_parents else None
    item = new_obligation(rule, timing, UNDATED, state.writer, timing.waiting_kind, None, None, latest)
    if timing.backstops:
        item.backstop_utc = _backstop(timing, state)
    return item


def _chain_and_backstop(item: Obligation, rule: CompiledRule, timing: Timing, state: Run) -> None:
    if timing.chained:
        item.latest_if_previous_submitted_at_deadline = _latest_if(rule, timing, state)
    if timing.backstops:
        item.backstop_utc = _backstop(timing, state)


def _parent_deadline(state: Run, parent: str) -> datetime | None:
    for item in state.owed.get(parent, ()):
        found = item.deadline_utc or item.latest_if_previous_submitted_at_deadline
        if found is not None:
            return found
    return None


def _latest_if(rule: CompiledRule, timing: Timing, state: Run) -> datetime | None:
    """The deadline if the anchoring step happened exactly at its own deadline."""
    for parent in timing.latest_parents:
        instant = _parent_deadline(state, parent)
        if instant is not None:
            anchors = {timing.events[0]: instant} if timing.needs_anchors else None  # read by earliest_of only
            return timing.dates(instant, anchors, state.ctx, state.book)[0]  # type: ignore[misc,arg-type]
    return None


def _backstop(timing: Timing, state: Run) -> datetime | None:
    found: list[datetime] = []
    events = state.ctx.events
    for backstop in timing.backstops:
        if backstop.event is not None and backstop.event in events:
            found.append(events[backstop.event])
        if backstop.rule is not None:
            instant = _parent_deadline(state, backstop.rule)
            if instant is not None:
                found.append(instant)
    return min(found) if found else None
