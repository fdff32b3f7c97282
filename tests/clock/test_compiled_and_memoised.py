"""The speed-ups keep the answers: compiled condition closures agree with the predicate
semantics, memoised business-day counting agrees with a fresh count, and reasons built on
first read say the same as if built at once."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from tocsin.clock import compute_obligations, load_rules
from tocsin.clock.calendars import CalendarBook
from tocsin.clock.conditions import _MISSING, FALSE, TRUE, UNKNOWN, Check, Context, Group, RoleCheck
from tocsin.clock.results import NotTriggered


def _reference(check: Check, ctx: Context) -> int:
    """The predicate semantics written out plainly (facts-vocabulary section 1)."""
    store = getattr(ctx, check.store)
    if check.op in ("present", "absent"):
        return TRUE if (check.name in store) == (check.op == "present") else FALSE
    value = store.get(check.name, _MISSING)
    if value is _MISSING and check.sum_fallback is not None and ctx.facts.get(check.sum_fallback) is not None:
        value = sum(ctx.facts[check.sum_fallback].values())
    if value is _MISSING:
        value = check.default
    if value is _MISSING:
        return check.absent

    def holds(actual: Any) -> bool:
        if check.op == "eq":
            return bool(actual == check.value)
        if check.op == "ne":
            return bool(actual != check.value)
        if check.op == "in":
            return actual in check.value
        if isinstance(actual, bool) or not isinstance(actual, int):
            return False
        if check.op == "gt":
            return actual > check.value
        if check.op == "gte":
            return actual >= check.value
        return actual < check.value if check.op == "lt" else actual <= check.value

    if check.map_key is None:
        return TRUE if holds(value) else FALSE
    if check.map_key == "*":
        return TRUE if any(holds(count) for count in value.values()) else FALSE
    return TRUE if holds(value.get(check.map_key, 0)) else FALSE


def _reference_node(node: Any, ctx: Context) -> int:
    if isinstance(node, Check):
        return _reference(node, ctx)
    if isinstance(node, RoleCheck):
        return node.test(ctx)
    assert isinstance(node, Group)
    outcomes = [_reference_node(child, ctx) for child in node.children]
    decisive, other = (TRUE, FALSE) if node.is_any else (FALSE, TRUE)
    if decisive in outcomes:
        return decisive
    return UNKNOWN if UNKNOWN in outcomes else other


def _random_context(rng: random.Random, book: Any) -> Context:
    vocabulary = book.table.vocabulary
    entity: dict[str, Any] = {}
    facts: dict[str, Any] = {}
    for key, kind in vocabulary.entity.items():
        if rng.random() < 0.5:
            allowed = getattr(kind, "enum", None) or getattr(kind, "list_of", None)
            if kind == "bool":
                entity[key] = rng.random() < 0.5
            elif kind == "eea_country":
                entity[key] = rng.choice(sorted(book.table.member_states))
            elif getattr(kind, "list_of", None):
                entity[key] = rng.sample(list(allowed), rng.randint(0, len(allowed)))
            elif allowed:
                entity[key] = rng.choice(list(allowed))
    for key, kind in vocabulary.facts.items():
        if rng.random() < 0.5:
            if kind == "bool":
                facts[key] = rng.random() < 0.5
            elif kind == "count":
                facts[key] = rng.choice([0, 1, 250, 499, 500, 501, 5000])
            elif kind in ("state_counts", "country_counts"):
                codes = ["TX", "CA", "NY", "FL", "VT", "FR", "DE", "IE", "GB"]
                facts[key] = {code: rng.choice([0, 1, 250, 501]) for code in rng.sample(codes, 3)}
    events = {name: None for name in vocabulary.events if rng.random() < 0.3}
    return Context(entity, facts, events, {}, None)


def test_compiled_conditions_agree_with_the_predicate_semantics() -> None:
    book = load_rules()
    rng = random.Random(3)
    for _ in range(300):
        ctx = _random_context(rng, book)
        for rule in book.rules:
            assert rule.conditions.test(ctx) == _reference_node(rule.conditions, ctx), rule.id


def test_memoised_business_days_match_a_fresh_count() -> None:
    specs = load_rules().table.calendars
    shared = CalendarBook(specs)
    start = date(2027, 1, 1)
    for offset in range(0, 400, 3):
        for name in ("US-VT", "US-FED", "BR"):
            if name not in specs:
                continue
            day = start + timedelta(days=offset)
            first = shared.add_business_days(name, day, 14)
            assert shared.add_business_days(name, day, 14) == first  # memoised answer
            assert CalendarBook(specs).add_business_days(name, day, 14) == first  # fresh count
            assert len(first[1]) == 14 and first[1][-1] == first[0]


def test_deferred_reason_is_built_once_and_kept() -> None:
    calls: list[int] = []

    def build() -> str:
        calls.append(1)
        return "because"

    entry = NotTriggered("some.rule", build)
    assert calls == []
    assert entry.to_dict() == {"rule": "some.rule", "reason": "because"}
    assert entry.reason == "because" and calls == [1]


def test_follow_up_reason_names_the_parents_root_reason() -> None:
    report = compute_obligations(
        {"roles": ["controller"], "main_establishment": "FR"},
        {"personal_data_breach": False},
        {"aware_personal_data_breach": "2027-05-12T09:15:00+02:00"},
    )
    reasons = {entry.rule: entry.reason for entry in report.not_triggered}
    parent = reasons["eu.gdpr.art33.supervisory_authority"]
    assert "personal_data_breach=false" in parent
    follow = reasons["eu.gdpr.art33.phased_followup"]
    assert follow == f"follows eu.gdpr.art33.supervisory_authority, which is not owed: {parent}"
