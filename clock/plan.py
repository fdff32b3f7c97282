"""Per set of present event names: which rules are worth evaluating (with their runners), and the
fixed answers for the rest. Shared by every incident with the same event names (cached)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from tocsin.clock.results import NotTriggered
from tocsin.clock.rules_loader import CompiledRule, RuleBook
from tocsin.clock.steps import Runner, compile_runner, follows_reason, read_rules

PROPOSED = "proposed rule, not in force (options.include_proposed is false)"

# Candidates with exactly one needed key, per fact and key, e.g. the individuals and the attorney-general
# notices of one US state: (fact, {key: (position, ...)}).
Keyed = tuple[tuple[str, dict[str, tuple[int, ...]]], ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """For one set of present events: the rules worth evaluating, and fixed answers for the rest."""

    slots: tuple[NotTriggered | None, ...]  # rules.yaml order; None where a candidate goes
    # `slots` with the keyed candidates answered as if their key were missing from the map (most are:
    # an incident names a few of the states): the engine reopens those of the keys it has.
    answered: tuple[NotTriggered | None, ...] = ()
    keyed: Keyed = ()
    steps: tuple[tuple[int, Runner], ...] = ()  # each candidate's position and runner, parents first


@lru_cache(maxsize=8)
def runners(book: RuleBook) -> dict[str, Runner]:
    """Each rule's runner (steps.py), made once per rule book."""
    read = read_rules(book.rules)
    return {rule.id: compile_runner(rule, rule.id in read) for rule in book.rules}


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
    answered = list(slots)
    keyed: dict[str, dict[str, tuple[int, ...]]] = {}
    for rule in candidates:
        if len(rule.needs_keys) == 1:
            fact, key, answer = rule.needs_keys[0]
            answered[rule.position] = answer
            by_key = keyed.setdefault(fact, {})
            by_key[key] = (*by_key.get(key, ()), rule.position)
    made = runners(book)
    steps = tuple((rule.position, made[rule.id]) for rule in candidates)
    return Plan(slots, tuple(answered), tuple(keyed.items()), steps)
