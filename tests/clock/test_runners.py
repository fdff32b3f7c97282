"""The per-rule runners (clock/steps.py) keep the answers: a one-timing runner answers what the
general form (one `_timed` call per timing, every rule's obligations recorded) answers; the keyed
pass reopens exactly the rules of the jurisdictions a map counts people in."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tocsin.clock import evaluate_many, load_rules, parse_input
from tocsin.clock import plan as plan_module
from tocsin.clock.rules_loader import DEFAULT_RULES_PATH, RuleBook, compile_table, load_table
from tocsin.clock.steps import compile_runner

from tests.clock.test_fast_path import _generate, _varied

NOW = datetime(2027, 6, 1, tzinfo=UTC)
ZONES = ["Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata", "Europe/Zurich"]
STATES = ["TX", "CA", "NY", "FL", "VT", "MA", "WA", "CT", "ME", "DE", "CA-country"]


def _instant(rng: random.Random) -> str:
    moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 60 * 24 * 900))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _any_rule_documents(book: RuleBook, count: int, seed: int) -> list[dict[str, Any]]:
    """Random inputs over the whole vocabulary (every regime, processors, scopes, chained events)."""
    rng = random.Random(seed)
    vocabulary = book.table.vocabulary
    documents: list[dict[str, Any]] = []
    while len(documents) < count:
        entity: dict[str, Any] = {}
        facts: dict[str, Any] = {}
        for key, kind in vocabulary.entity.items():
            if rng.random() < 0.4:
                allowed = getattr(kind, "enum", None) or getattr(kind, "list_of", None)
                if kind == "bool":
                    entity[key] = rng.random() < 0.6
                elif kind == "eea_country":
                    entity[key] = rng.choice(sorted(book.table.member_states))
                elif kind == "zone":
                    entity[key] = rng.choice(ZONES)
                elif kind == "string":
                    entity[key] = "Org"
                elif getattr(kind, "list_of", None):
                    entity[key] = rng.sample(list(allowed), rng.randint(0, 2))
                elif allowed:
                    entity[key] = rng.choice(list(allowed))
        for key, kind in vocabulary.facts.items():
            if rng.random() < 0.5:
                if kind == "bool":
                    facts[key] = rng.random() < 0.7
                elif kind == "count":
                    facts[key] = rng.choice([0, 1, 250, 500, 501, 5000])
                elif kind in ("state_counts", "country_counts"):
                    codes = [*STATES, "FR", "DE", "GB", "EU"]
                    facts[key] = {code: rng.choice([0, 1, 250, 501]) for code in rng.sample(codes, rng.randint(1, 5))}
                elif getattr(kind, "enum", None):
                    facts[key] = rng.choice(list(kind.enum))
        events = {name: _instant(rng) for name in vocabulary.events if rng.random() < 0.3}
        for rule in rng.sample(book.rules, rng.randint(0, 3)):
            events[f"submitted:{rule.id}"] = _instant(rng)
        document: dict[str, Any] = {"entity": entity, "facts": facts, "events": events}
        document["options"] = {"include_proposed": rng.random() < 0.3}
        if rng.random() < 0.1:
            document["processor"] = {"name": "Proc", "roles": ["processor"]}
        try:
            parse_input(document, rules=book)
        except Exception:  # an invalid combination (e.g. a count type the vocabulary refuses): draw again
            continue
        documents.append(document)
    return documents


def _dumped(reports: list[Any]) -> list[str]:
    return [json.dumps(report.to_dict(), sort_keys=True) + repr(report.obligations) for report in reports]


def test_one_timing_runners_agree_with_the_general_form(monkeypatch: pytest.MonkeyPatch) -> None:
    book = load_rules()
    general = compile_table(load_table(DEFAULT_RULES_PATH), "general form")  # its own plans and runners
    made = {rule.id: compile_runner(rule, True, phased=True) for rule in general.rules}
    original = plan_module.runners
    monkeypatch.setattr(plan_module, "runners", lambda of: made if of is general else original(of))
    documents = _varied(_generate(400, seed=21), seed=21) + _any_rule_documents(book, 600, seed=22)
    incidents = [parse_input(document, rules=book) for document in documents]
    fast = evaluate_many(incidents, book, NOW)
    assert _dumped(fast) == _dumped(evaluate_many(incidents, general, NOW))
    assert sum(len(report.obligations) for report in fast) > 5_000


def test_keyed_rules_reopen_only_for_the_jurisdictions_counted() -> None:
    book = load_rules()
    keyed = {rule.id: rule.needs_keys[0] for rule in book.rules if len(rule.needs_keys) == 1}
    rng = random.Random(5)
    seen = {"answered": 0, "evaluated": 0}
    for _ in range(300):
        facts: dict[str, Any] = {"breach_of_unencrypted_pi": True}
        if rng.random() < 0.8:  # else no map: every keyed rule is evaluated
            facts["residents_affected"] = {state: rng.choice([0, 0, 3, 300]) for state in rng.sample(STATES, 4)}
        document = {
            "entity": {"timezone": "America/New_York"},
            "facts": facts,
            "events": {"state_breach_discovered": _instant(rng), "state_breach_determined": _instant(rng)},
        }
        report = evaluate_many([parse_input(document, rules=book)], book, NOW)[0]
        answers = {entry.rule: entry for entry in report.not_triggered}
        for rule_id, (fact, key, answer) in keyed.items():
            counts = facts.get(fact)
            fixed = counts is not None and counts.get(key, 0) <= 0
            assert (answers.get(rule_id) is answer) == fixed, (rule_id, facts)
            seen["answered" if fixed else "evaluated"] += 1
    assert min(seen.values()) > 1_000
