"""Loading the rule table: YAML with line marks, pydantic validation, cross-references, compile.

`load_rules()` is cached per path: the engine gets a ready `RuleBook` and does no I/O.
A malformed table raises `InvalidInput` naming the file, line, rule id and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from tocsin.clock.calendars import CalendarBook
from tocsin.clock.conditions import Check, Group, Scope, compile_conditions
from tocsin.clock.deadlines import DeadlineFn, compile_deadline
from tocsin.clock.references import check_references
from tocsin.clock.results import NotTriggered
from tocsin.clock.schema import (
    AppliesWhen,
    Backstop,
    ClockStart,
    DeadlineSpec,
    MemberState,
    ReliefSpec,
    RuleSpec,
    RuleTable,
)
from tocsin.clock.yaml_lines import line_of, load_yaml

from tocsin.core.errors import InvalidInput

DEFAULT_RULES_PATH = Path(__file__).with_name("rules.yaml")


_OUTPUT_KIND = {"no_fixed_deadline": "no_fixed_deadline", "on_request": "on_request", "retention": "retention"}
_UNDATED_KIND = {"on_request": "on_request", "retention": "retention"}
_FAR = datetime.max.replace(tzinfo=UTC)  # undated obligations sort after every deadline


@dataclass(frozen=True, slots=True)
class Timing:
    label: str | None
    clock: ClockStart
    deadline: DeadlineSpec
    cutoff: time | None
    # Decided at load so the engine does not re-derive them per incident:
    label_text: str = ""  # " [label]" in explanations
    output_kind: str = "fixed"  # deadline_kind of a dated obligation
    only_event: str | None = None  # the clock-start event when there is exactly one
    dates: DeadlineFn | None = None  # the deadline without its explanation (deadlines.py)
    latest_parents: tuple[str, ...] = ()  # the steps whose deadline gives latest_if_previous_submitted_at_deadline
    chained: bool = False  # clock.latest_if_from is set
    backstops: tuple[Backstop, ...] = ()  # deadline.backstop
    combine: str = "first"  # clock.combine
    needs_anchors: bool = False  # the deadline reads every anchor (earliest_of), not only the trigger
    events: tuple[str, ...] = ()  # clock.events
    when_missing: str = "not_triggered"  # clock.when_missing
    waiting_kind: str = "no_fixed_deadline"  # deadline_kind while no clock-start event is given
    missing_reason: str = ""  # why the rule is not triggered when no clock-start event is given


def make_timing(label: str | None, clock: ClockStart, deadline: DeadlineSpec, rule_id: str) -> Timing:
    cutoff = time.fromisoformat(deadline.cutoff) if deadline.cutoff else None
    return Timing(
        label,
        clock,
        deadline,
        cutoff,
        label_text=f" [{label}]" if label else "",
        output_kind=deadline.output_kind or _OUTPUT_KIND.get(deadline.kind, "fixed"),
        only_event=clock.events[0] if len(clock.events) == 1 else None,
        dates=compile_deadline(deadline, cutoff, rule_id),
        latest_parents=_latest_parents(clock, deadline),
        chained=bool(clock.latest_if_from),
        backstops=tuple(deadline.backstop),
        combine=clock.combine,
        needs_anchors=deadline.kind == "earliest_of",
        events=tuple(clock.events),
        when_missing=clock.when_missing,
        waiting_kind="pending_chained"
        if clock.when_missing == "pending"
        else _UNDATED_KIND.get(deadline.kind, "no_fixed_deadline"),
        missing_reason=f"clock-start event {' / '.join(clock.events)} not given",
    )


def _latest_parents(clock: ClockStart, deadline: DeadlineSpec) -> tuple[str, ...]:
    if deadline.kind in ("no_fixed_deadline", "on_request", "retention", "earliest_of"):
        return ()
    parents = [clock.latest_if_from] if clock.latest_if_from else []
    parents += [name.removeprefix("submitted:") for name in clock.events if name.startswith("submitted:")]
    return tuple(parent for parent in parents if parent)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    spec: RuleSpec
    id: str
    conditions: Group
    follows: tuple[str, ...]
    timings: tuple[Timing, ...]
    proposed: bool
    absent_reason: str | None  # set when a missing clock-start event alone means "not triggered"
    effective_from: date | None
    effective_zone: ZoneInfo | None
    sources: tuple[str, ...]
    # (fact, key, answer): a given per-jurisdiction map without `key` fails a >=1 / >0 threshold at once;
    # the answer's reason is fixed, so one NotTriggered serves every incident
    needs_keys: tuple[tuple[str, str, NotTriggered], ...] = ()
    additions: tuple[tuple[Check, str], ...] = ()  # compiled `recipient_additions`: (when, text added)
    # A clock start at or after this instant is on or after `effective_from` in any zone (UTC offsets
    # stay within +-26 h), so only earlier ones need the local date; None when no effective date.
    surely_effective_from: datetime | None = None
    recipient: str = ""  # spec.recipient
    position: int = 0  # in rules.yaml: the output's order
    undated_order: tuple[bool, datetime, int] = (True, _FAR, 0)  # sort key of its undated obligations
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, hash=False)  # answers kept per input value


@dataclass(frozen=True, slots=True)
class CompiledRelief:
    spec: ReliefSpec
    name: str
    relief_time: time
    no_relief_for: frozenset[str]
    no_relief_when: tuple[Check, ...]
    disapplied_when: tuple[Check, ...]


@dataclass(frozen=True, eq=False)
class RuleBook:
    """The validated, compiled rule table the engine evaluates."""

    source: str
    table: RuleTable
    rules: tuple[CompiledRule, ...]  # parents before the reports that follow them
    by_id: dict[str, CompiledRule]
    position: dict[str, int]  # order of rules.yaml, for output
    calendars: CalendarBook
    reliefs: dict[str, CompiledRelief]
    member_states: dict[str, MemberState]  # table.member_states, read per obligation (no pydantic lookup)
    member_state_zones: dict[str, ZoneInfo]  # each Member State's zone

    @property
    def rule_ids(self) -> list[str]:
        return [rule.id for rule in self.table.rules]


def _is_union_tag(step: Any) -> bool:
    """Pydantic puts union members / discriminator tags in error locations; they are not YAML keys."""
    if not isinstance(step, str):
        return False
    return step in ("predicate", "group", "str", "int", "bool", "float") or step[:1].isupper() or "[" in step


def _where(source: str, data: Any, loc: tuple[Any, ...]) -> tuple[str, str]:
    """("file:line rule ID field a.b", dotted field) for an error location in the YAML."""
    path: list[Any] = []
    node = data
    for step in loc:
        in_list = isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        if (isinstance(node, dict) and step in node) or in_list:
            path.append(step)
            node = node[step]
        elif _is_union_tag(step):
            continue
        else:
            path.append(step)
            break
    line = line_of(data, tuple(path))
    where = f"{source}:{line}" if line else source
    rule_part = ""
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rules = data.get("rules") if isinstance(data, dict) else None
        rule = rules[path[1]] if isinstance(rules, list) and path[1] < len(rules) else None
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        rule_part = f" rule {rule_id or f'#{path[1]}'}"
        path = path[2:]
    dotted = ".".join(str(step) for step in path) or "(top level)"
    return f"{where}{rule_part} field {dotted}", dotted


def parse_table(text: str, source: str) -> RuleTable:
    try:
        data = load_yaml(text)
    except Exception as error:  # yaml errors carry their own line marks
        raise InvalidInput(f"not valid YAML: {error}", where=source) from None
    if not isinstance(data, dict):
        raise InvalidInput("a rule table is a mapping with `rules:`", where=source)
    try:
        table = RuleTable.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where, _ = _where(source, data, tuple(first["loc"]))
        more = f" (and {error.error_count() - 1} more problems)" if error.error_count() > 1 else ""
        raise InvalidInput(f"{first['msg']}{more}", where=where) from None
    problems = check_references(table)
    if problems:
        path, message = problems[0]
        where, _ = _where(source, data, path)
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise InvalidInput(f"{message}{more}", where=where)
    return table


def load_table(path: Path | str | None = None) -> RuleTable:
    file = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput(f"cannot read the rule table: {error.strerror}", where=str(file)) from None
    return parse_table(text, str(file))


def _merged(when: AppliesWhen, base: AppliesWhen) -> AppliesWhen:
    """`same_as`: the referenced rule's conditions, extended by this rule's own."""
    return AppliesWhen(
        scope=[*base.scope, *(name for name in when.scope if name not in base.scope)],
        entity={**base.entity, **when.entity},
        roles=when.roles or base.roles,
        require={**base.require, **when.require},
        exceptions=[*base.exceptions, *(name for name in when.exceptions if name not in base.exceptions)],
        thresholds=[*base.thresholds, *when.thresholds],
        any_of=when.any_of or base.any_of,
        reason=when.reason if when.any_of else base.reason,
        follows=[*base.follows, *when.follows],
        qualifiers=[*base.qualifiers, *when.qualifiers],
    )


def _resolve_same_as(rule: RuleSpec, specs: dict[str, RuleSpec], seen: tuple[str, ...] = ()) -> AppliesWhen:
    when = rule.applies_when
    if when.same_as is None:
        return when
    if when.same_as in seen:
        raise InvalidInput(f"same_as cycle through {when.same_as}", where=f"rule {rule.id}")
    base = _resolve_same_as(specs[when.same_as], specs, (*seen, rule.id))
    return _merged(when, base)


def _dependencies(rule: RuleSpec) -> set[str]:
    deps = set(rule.applies_when.follows)
    timings = (
        [(rule.clock_start, rule.deadline)] if rule.clock_start else [(p.clock_start, p.deadline) for p in rule.phases]
    )
    for clock, deadline in timings:
        assert clock is not None and deadline is not None
        deps.update(name.removeprefix("submitted:") for name in clock.events if name.startswith("submitted:"))
        if clock.latest_if_from:
            deps.add(clock.latest_if_from)
        deps.update(backstop.rule for backstop in deadline.backstop if backstop.rule)
    deps.discard(rule.id)
    return deps


def _topological(specs: list[RuleSpec]) -> list[RuleSpec]:
    by_id = {spec.id: spec for spec in specs}
    ordered: list[RuleSpec] = []
    state: dict[str, int] = {}

    def visit(rule_id: str, trail: tuple[str, ...]) -> None:
        if state.get(rule_id) == 2:
            return
        if state.get(rule_id) == 1:
            raise InvalidInput(f"rules depend on each other in a cycle: {' -> '.join((*trail, rule_id))}")
        state[rule_id] = 1
        for dep in sorted(_dependencies(by_id[rule_id])):
            visit(dep, (*trail, rule_id))
        state[rule_id] = 2
        ordered.append(by_id[rule_id])

    for spec in specs:
        visit(spec.id, ())
    return ordered


def _compile_rule(
    spec: RuleSpec, table: RuleTable, when: AppliesWhen, scopes: dict[str, Scope], position: int
) -> CompiledRule:
    conditions = compile_conditions(when, table.scopes, table.fact_defaults, table.role_equivalents, scopes)
    if spec.phases:
        timings = tuple(make_timing(p.label, p.clock_start, p.deadline, spec.id) for p in spec.phases)
    else:
        assert spec.clock_start is not None and spec.deadline is not None
        timings = (make_timing(None, spec.clock_start, spec.deadline, spec.id),)
    first = timings[0].clock
    absent_reason = None
    if first.when_missing == "not_triggered":
        names = " / ".join(first.events)
        absent_reason = f"clock-start event {names} not given"
    zone_name = spec.effective.zone or (
        spec.deadline.tz if spec.deadline and isinstance(spec.deadline.tz, str) else None
    )
    zone = ZoneInfo(zone_name) if zone_name and zone_name not in ("entity_timezone", "member_state") else None
    return CompiledRule(
        spec=spec,
        id=spec.id,
        conditions=conditions,
        follows=tuple(when.follows),
        timings=timings,
        proposed=spec.status == "proposed_not_in_force",
        absent_reason=absent_reason,
        effective_from=spec.effective.from_,
        effective_zone=zone,
        sources=tuple(spec.sources),
        needs_keys=tuple(
            (
                t.fact,
                t.key,
                NotTriggered(spec.id, f"{t.fact}[{t.key}]=0; needs {'>=' if t.op == 'gte' else '>'} {t.value}"),
            )
            for t in when.thresholds
            if t.fact
            and t.key
            and t.key != "*"
            and not t.reason
            and ((t.op == "gte" and t.value >= 1) or (t.op == "gt" and t.value >= 0))
        ),
        additions=tuple((Check(item.when, {}), item.add) for item in spec.recipient_additions),
        surely_effective_from=_surely_effective_from(spec.effective.from_),
        recipient=spec.recipient,
        position=position,
        undated_order=(True, _FAR, position),
    )


def _surely_effective_from(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(0), UTC) + timedelta(hours=27)


def compile_table(table: RuleTable, source: str) -> RuleBook:
    specs = {rule.id: rule for rule in table.rules}
    position = {rule.id: index for index, rule in enumerate(table.rules)}
    scopes: dict[str, Scope] = {}  # compiled once, shared by the rules of the scope
    compiled = {
        rule.id: _compile_rule(rule, table, _resolve_same_as(rule, specs), scopes, position[rule.id])
        for rule in _topological(table.rules)
    }
    reliefs = {
        name: CompiledRelief(
            spec=relief,
            name=name,
            relief_time=time.fromisoformat(relief.relief_local_time),
            no_relief_for=frozenset(relief.no_relief_for_reports),
            no_relief_when=tuple(Check(p, table.fact_defaults) for p in relief.no_relief_when_any),
            disapplied_when=tuple(Check(p, table.fact_defaults) for p in relief.disapplied_when_any),
        )
        for name, relief in table.modifiers.items()
    }
    return RuleBook(
        source=source,
        table=table,
        rules=tuple(compiled.values()),
        by_id=compiled,
        position=position,
        calendars=CalendarBook(table.calendars),
        reliefs=reliefs,
        member_states=table.member_states,
        member_state_zones={code: ZoneInfo(state.zone) for code, state in table.member_states.items()},
    )


@lru_cache(maxsize=8)
def _load_cached(path: str) -> RuleBook:
    return compile_table(load_table(path), path)


def load_rules(path: Path | str | None = None) -> RuleBook:
    """The compiled rule table (default: the project's `clock/rules.yaml`), cached per path."""
    return _load_cached(str(Path(path) if path is not None else DEFAULT_RULES_PATH))
