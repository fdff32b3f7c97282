"""Per set of present event names: which rules are worth evaluating, and the fixed answers
for the rest. Shared by every incident with the same event names (cached)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from tocsin.clock.results import NotTriggered, Obligation
from tocsin.clock.rules_loader import CompiledRule, RuleBook

PROPOSED = "proposed rule, not in force (options.include_proposed is false)"
NOT_OWED = " which is not owed: "


@dataclass(frozen=True, slots=True)
class Plan:
    """For one set of present events: the rules worth evaluating, and fixed answers for the rest."""

    candidates: tuple[CompiledRule, ...]  # parents first
    slots: tuple[NotTriggered | None, ...]  # rules.yaml order; None where a candidate goes
    # Candidates with exactly one needed key, grouped per (fact, key), e.g. the individuals and the
    # attorney-general notices of one US state: (fact, key, ((rule id, answer), ...)).
    keyed: tuple[tuple[str, str, tuple[tuple[str, NotTriggered], ...]], ...] = ()
    holes: tuple[int, ...] = ()  # the candidates' positions in `slots`, last first


def follows_reason(rule: CompiledRule, parent_reason: str) -> str:
    """Why a follow-up report is not owed: its parent is not, for the parent's root reason."""
    root = parent_reason.split(NOT_OWED)[-1]
    return f"follows {' / '.join(rule.follows)},{NOT_OWED}{root}"


@lru_cache(maxsize=4096)
def plan_for(book: RuleBook, present: frozenset[str], include_proposed: bool) -> Plan:
    """A rule is dormant when its clock-start event is absent (or its parent is dormant): its
    reason is fixed, so incidents with the same event names share the decision."""
    dormant: dict[str, NotTriggered] = {}
    candidates: list[CompiledRule] = []
    for rule in book.rules:
        if rule.proposed and not include_proposed:
            dormant[rule.id] = NotTriggered(rule.id, PROPOSED)
            continue
        first = rule.timings[0].clock
        if rule.absent_reason is not None and present.isdisjoint(first.events):
            dormant[rule.id] = NotTriggered(rule.id, rule.absent_reason)
            continue
        if rule.follows and all(parent in dormant for parent in rule.follows):
            dormant[rule.id] = NotTriggered(rule.id, follows_reason(rule, dormant[rule.follows[0]].reason))
            continue
        candidates.append(rule)
    slots = tuple(dormant.get(rule_id) for rule_id in book.position)
    keyed: dict[tuple[str, str], list[tuple[str, NotTriggered]]] = {}
    for rule in candidates:
        if len(rule.needs_keys) == 1:
            fact, key, answer = rule.needs_keys[0]
            keyed.setdefault((fact, key), []).append((rule.id, answer))
    groups = tuple((fact, key, tuple(members)) for (fact, key), members in keyed.items())
    holes = tuple(sorted((book.position[rule.id] for rule in candidates), reverse=True))
    return Plan(tuple(candidates), slots, groups, holes)


@lru_cache(maxsize=8)
def display_order(book: RuleBook) -> Callable[[Obligation], tuple[bool, datetime, int]]:
    """Sort key of the output: dated obligations soonest first, then undated; ties in rules.yaml order.
    Deadlines compare by their wall-clock fields (as naive datetimes would): a UTC deadline as it is,
    any other moved into UTC with its fields unchanged, so that every key compares field by field."""
    far = datetime.max.replace(tzinfo=UTC)
    position = book.position

    def key(item: Obligation) -> tuple[bool, datetime, int]:
        deadline = item.deadline_utc
        if deadline is None:
            return True, far, position[item.rule]
        return False, deadline if deadline.tzinfo is UTC else deadline.replace(tzinfo=UTC), position[item.rule]

    return key
