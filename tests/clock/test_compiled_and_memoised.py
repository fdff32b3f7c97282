"""The speed-ups keep the answers: compiled conditions (check closures, generated group
functions) agree with the predicate semantics, memoised business-day counting and month
arithmetic agree with a fresh count, and reasons built on first read say the same as if built
at once."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tocsin.clock import compute_obligations, load_rules, periods
from tocsin.clock.calendars import CalendarBook
from tocsin.clock.conditions import _MISSING, FALSE, TRUE, UNKNOWN, Check, Context, Group, RoleCheck, Scope
from tocsin.clock.deadlines import months_after
from tocsin.clock.results import NotTriggered
from tocsin.clock.schema import PredicateSpec


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


def _nodes(node: Any) -> list[Any]:
    """`node` and every node below it."""
    return [node, *(below for child in getattr(node, "children", ()) for below in _nodes(child))]


def test_every_compiled_node_agrees_with_the_predicate_semantics() -> None:
    """Node by node: each group function (scopes, nested groups), each check, relief and addition checks."""
    book = load_rules()
    nodes = [node for rule in book.rules for node in _nodes(rule.conditions)]
    nodes += [check for rule in book.rules for check, _ in rule.additions]
    for relief in book.reliefs.values():
        nodes += [*relief.no_relief_when, *relief.disapplied_when]
    rng = random.Random(4)
    for _ in range(300):
        ctx = _random_context(rng, book)
        for node in nodes:
            assert node.test(ctx) == _reference_node(node, ctx)


def _synthetic_groups() -> list[Group]:
    """Groups mixing every leaf form the group functions write inline or call (defaults, absent answers,
    map keys, any key, sum fallback, present/absent, roles with a processor, scopes, nested groups)."""
    defaults = {"personal_data_breach": True}
    specs = [
        PredicateSpec(fact="personal_data_breach", op="eq", value=True),
        PredicateSpec(fact="significant_incident", op="ne", value=False, if_absent=False),
        PredicateSpec(fact="significant_incident", op="eq", value=True, if_absent=True),
        PredicateSpec(fact="total_individuals", op="gte", value=500),
        PredicateSpec(fact="total_individuals", op="lt", value=500, sum_fallback="residents_affected"),
        PredicateSpec(fact="residents_affected", key="TX", op="gt", value=0),
        PredicateSpec(fact="residents_affected", key="*", op="gte", value=250, if_absent=False),
        PredicateSpec(entity="member_state", op="in", value=["FR", "DE"]),
        PredicateSpec(entity="nis2_class", op="present"),
        PredicateSpec(entity="dora_entity_type", op="absent"),
    ]
    leaves: list[Any] = [Check(spec, defaults) for spec in specs]
    leaves.append(RoleCheck(["controller"], {}))
    leaves.append(RoleCheck(["processor"], {}))
    leaves.append(Scope(Group(leaves[1:4], True)))
    leaves.append(Group(leaves[5:8], False))
    rng = random.Random(6)
    groups = [Group([], False), Group([], True)]
    for _ in range(60):
        groups.append(Group(rng.sample(leaves, rng.randint(1, 6)), rng.random() < 0.5))
    return groups


def test_group_functions_agree_with_the_predicate_semantics_on_every_leaf_form() -> None:
    book = load_rules()
    groups = _synthetic_groups()
    rng = random.Random(8)
    for _ in range(400):
        base = _random_context(rng, book)
        processor = {"roles": ["processor"]} if rng.random() < 0.3 else None
        ctx = Context(base.entity, base.facts, base.events, base.options, processor)
        for group in groups:
            assert group.test(ctx) == _reference_node(group, ctx), group.test.source  # type: ignore[attr-defined]


def test_memoised_month_arithmetic_matches_the_full_computation() -> None:
    zone = ZoneInfo("Europe/Paris")
    start = datetime(2027, 1, 29, 22, 30, tzinfo=UTC)
    for offset in range(0, 800, 7):
        local = (start + timedelta(days=offset, hours=offset % 5)).astimezone(zone)
        for months in (1, 3, 12, 18):
            expected = periods.add_months_local(local.replace(tzinfo=None), months).date()
            assert months_after(local, months) == expected  # computed, then kept
            assert months_after(local, months) == expected  # the kept answer


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
