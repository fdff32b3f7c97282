"""Cross-reference checks of a shape-valid rule table: every name a rule uses must exist.

A typo in rules.yaml (an unknown fact, event, scope, calendar or rule id) is refused at
load instead of silently never matching. Each problem is (path in the YAML, message).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tocsin.clock.schema import (
    ClockStart,
    DeadlineSpec,
    GroupSpec,
    PredicateSpec,
    RuleSpec,
    RuleTable,
    ZoneByPrefix,
)

Problem = tuple[tuple[Any, ...], str]
SPECIAL_ZONES = ("entity_timezone", "member_state")


def zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class _Checker:
    def __init__(self, table: RuleTable) -> None:
        self.table = table
        self.rule_ids = {rule.id for rule in table.rules}
        self.vocab = table.vocabulary
        self.events = set(table.vocabulary.events)
        self.problems: list[Problem] = []

    def add(self, path: tuple[Any, ...], message: str) -> None:
        self.problems.append((path, message))

    def event(self, name: str, path: tuple[Any, ...]) -> None:
        if name.startswith("submitted:"):
            if name.removeprefix("submitted:") not in self.rule_ids:
                self.add(path, f"'{name}' names an unknown rule id")
        elif name not in self.events:
            self.add(path, f"unknown event '{name}' (not in vocabulary.events)")

    def fact(self, name: str, path: tuple[Any, ...]) -> None:
        if name not in self.vocab.facts:
            self.add(path, f"unknown fact '{name}' (not in vocabulary.facts)")

    def entity_key(self, name: str, path: tuple[Any, ...]) -> None:
        if name not in self.vocab.entity:
            self.add(path, f"unknown entity key '{name}' (not in vocabulary.entity)")

    def zone(self, spec: Any, path: tuple[Any, ...]) -> None:
        if isinstance(spec, ZoneByPrefix):
            self.zone(spec.default, (*path, "default"))
        elif spec is not None and spec not in SPECIAL_ZONES and not zone_exists(spec):
            self.add(path, f"unknown time zone '{spec}'")

    def calendar(self, name: str | None, path: tuple[Any, ...]) -> None:
        if name is not None and name not in self.table.calendars:
            self.add(path, f"unknown calendar '{name}' (not in calendars)")

    def predicate(self, node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, GroupSpec):
            children = node.all_of if node.all_of is not None else node.any_of
            label = "all_of" if node.all_of is not None else "any_of"
            for index, child in enumerate(children or []):
                self.predicate(child, (*path, label, index))
            return
        assert isinstance(node, PredicateSpec)
        if node.fact is not None:
            self.fact(node.fact, (*path, "fact"))
        if node.entity is not None:
            self.entity_key(node.entity, (*path, "entity"))
        if node.event is not None:
            self.event(node.event, (*path, "event"))
        if node.option is not None and node.option not in self.vocab.options:
            self.add((*path, "option"), f"unknown option '{node.option}'")
        if node.sum_fallback is not None:
            self.fact(node.sum_fallback, (*path, "sum_fallback"))

    def clock(self, clock: ClockStart, path: tuple[Any, ...]) -> None:
        for index, name in enumerate(clock.events):
            self.event(name, (*path, "events", index))
        if clock.latest_if_from is not None and clock.latest_if_from not in self.rule_ids:
            self.add((*path, "latest_if_from"), f"unknown rule id '{clock.latest_if_from}'")

    def deadline(self, spec: DeadlineSpec, path: tuple[Any, ...]) -> None:
        self.zone(spec.tz, (*path, "tz"))
        self.calendar(spec.calendar, (*path, "calendar"))
        if spec.alt_roll_forward is not None:
            self.calendar(spec.alt_roll_forward.calendar, (*path, "alt_roll_forward", "calendar"))
        if spec.relief is not None and spec.relief not in self.table.modifiers:
            self.add((*path, "relief"), f"unknown modifier '{spec.relief}'")
        if spec.amount_if is not None:
            self.fact(spec.amount_if.fact, (*path, "amount_if", "fact"))
        if spec.amount_by_entity is not None:
            self.entity_key(spec.amount_by_entity.key, (*path, "amount_by_entity", "key"))
        if spec.multiplier_if is not None:
            self.entity_key(spec.multiplier_if.entity, (*path, "multiplier_if", "entity"))
        for index, backstop in enumerate(spec.backstop):
            if backstop.event is not None:
                self.event(backstop.event, (*path, "backstop", index, "event"))
            if backstop.rule is not None and backstop.rule not in self.rule_ids:
                self.add((*path, "backstop", index, "rule"), f"unknown rule id '{backstop.rule}'")
        for index, term in enumerate(spec.terms):
            self.event(term.anchor, (*path, "terms", index, "anchor"))
            self.zone(term.tz, (*path, "terms", index, "tz"))
            self.calendar(term.calendar, (*path, "terms", index, "calendar"))
            if term.kind == "business_days" and (term.calendar is None or term.tz is None):
                self.add((*path, "terms", index), "a business_days term needs calendar and tz")
            if term.dropped_if is not None:
                self.event(term.dropped_if.event, (*path, "terms", index, "dropped_if", "event"))

    def rule(self, index: int, rule: RuleSpec) -> None:
        base = ("rules", index)
        when = rule.applies_when
        for position, scope in enumerate(when.scope):
            if scope not in self.table.scopes:
                self.add((*base, "applies_when", "scope", position), f"unknown scope '{scope}'")
        for key in when.entity:
            self.entity_key(key, (*base, "applies_when", "entity", key))
        roles = self.vocab.entity.get("roles")
        known_roles = set(getattr(roles, "list_of", []))
        for position, role in enumerate(when.roles):
            if role not in known_roles:
                self.add((*base, "applies_when", "roles", position), f"unknown role '{role}'")
        for key in when.require:
            self.fact(key, (*base, "applies_when", "require", key))
        for position, key in enumerate(when.exceptions):
            self.fact(key, (*base, "applies_when", "exceptions", position))
        for position, node in enumerate(when.thresholds):
            self.predicate(node, (*base, "applies_when", "thresholds", position))
        for position, node in enumerate(when.any_of):
            self.predicate(node, (*base, "applies_when", "any_of", position))
        for position, parent in enumerate(when.follows):
            if parent not in self.rule_ids or parent == rule.id:
                self.add((*base, "applies_when", "follows", position), f"unknown or self rule id '{parent}'")
        if when.same_as is not None and (when.same_as not in self.rule_ids or when.same_as == rule.id):
            self.add((*base, "applies_when", "same_as"), f"unknown or self rule id '{when.same_as}'")
        if rule.clock_start is not None:
            self.clock(rule.clock_start, (*base, "clock_start"))
        if rule.deadline is not None:
            self.deadline(rule.deadline, (*base, "deadline"))
        for position, phase in enumerate(rule.phases):
            self.clock(phase.clock_start, (*base, "phases", position, "clock_start"))
            self.deadline(phase.deadline, (*base, "phases", position, "deadline"))
        self.zone(rule.effective.zone, (*base, "effective", "zone"))
        by = rule.recipient_by
        if by is not None and by.mode == "per_state":
            if by.fact is None or by.op is None or by.value is None or by.template is None:
                self.add((*base, "recipient_by"), "mode per_state needs fact, op, value and template")
            else:
                self.fact(by.fact, (*base, "recipient_by", "fact"))
        if by is not None and by.mode == "entity_key":
            if by.key is None:
                self.add((*base, "recipient_by"), "mode entity_key needs key")
            else:
                self.entity_key(by.key, (*base, "recipient_by", "key"))
        if by is not None and by.mode == "member_state" and by.authority is None:
            self.add((*base, "recipient_by"), "mode member_state needs authority")
        for position, addition in enumerate(rule.recipient_additions):
            self.predicate(addition.when, (*base, "recipient_additions", position, "when"))

    def run(self) -> list[Problem]:
        seen: dict[str, int] = {}
        for index, rule in enumerate(self.table.rules):
            if rule.id in seen:
                self.add(("rules", index, "id"), f"duplicate rule id (first at rules[{seen[rule.id]}])")
            seen.setdefault(rule.id, index)
            self.rule(index, rule)
        for name in self.table.fact_defaults:
            self.fact(name, ("fact_defaults", name))
        for name, node in self.table.scopes.items():
            self.predicate(node, ("scopes", name))
        for code, state in self.table.member_states.items():
            self.zone(state.zone, ("member_states", code, "zone"))
            self.calendar(state.calendar, ("member_states", code, "calendar"))
        for name, relief in self.table.modifiers.items():
            for field_name in ("no_relief_when_any", "disapplied_when_any"):
                for index, node in enumerate(getattr(relief, field_name)):
                    self.predicate(node, ("modifiers", name, field_name, index))
            for index, rule_id in enumerate(relief.no_relief_for_reports):
                if rule_id not in self.rule_ids:
                    self.add(("modifiers", name, "no_relief_for_reports", index), f"unknown rule id '{rule_id}'")
        return self.problems


def check_references(table: RuleTable) -> list[Problem]:
    return _Checker(table).run()
