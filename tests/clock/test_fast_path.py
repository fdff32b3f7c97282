"""The deadline-only fast path (clock/deadlines.py) answers exactly what the full computation
(clock/timing.py, which also writes the explanation) answers, on generated incidents; and the
shortcuts around it (effective-date window, per-incident scope memo, lazily written text) keep
the output unchanged."""

from __future__ import annotations

import importlib.util
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tocsin.clock import evaluate, evaluate_many, load_rules, parse_input
from tocsin.clock.conditions import Context
from tocsin.clock.deadlines import Dates
from tocsin.clock.rules_loader import RuleBook, Timing
from tocsin.clock.timing import Computed, compute

BENCH = Path(__file__).resolve().parents[2] / "bench" / "clock_bench.py"
NOW = datetime(2027, 6, 1, tzinfo=UTC)


def _generate(count: int, seed: int) -> list[dict[str, Any]]:
    """The benchmark's generator (GDPR, UK, NIS2, DORA, US states, HIPAA, SEC, BR, JP, SG, AU)."""
    spec = importlib.util.spec_from_file_location("clock_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate(count, seed=seed)  # type: ignore[no-any-return]


def _varied(documents: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Rarer branches on top: no member state or time zone, relief disapplied, NIS2 class unknown,
    a non-working Member State day, clock starts late in the day and in other years."""
    rng = random.Random(seed)
    for doc in documents:
        entity, events = doc["entity"], doc["events"]
        if rng.random() < 0.15:
            entity.pop("member_state", None)
        if rng.random() < 0.15:
            entity.pop("timezone", None)
        if rng.random() < 0.1:
            entity.pop("nis2_class", None)
        if rng.random() < 0.1:
            entity["competent_authority_disapplied_relief"] = True
        if rng.random() < 0.1:
            entity["timezone"] = rng.choice(["Asia/Tokyo", "Pacific/Auckland", "America/Sao_Paulo", "Europe/Dublin"])
        if rng.random() < 0.2 and events:
            name = rng.choice(sorted(events))
            moment = datetime(rng.choice([2018, 2024, 2025, 2026, 2028]), rng.randint(1, 12), rng.randint(1, 28), 23)
            events[name] = (moment + timedelta(minutes=rng.randrange(0, 120))).strftime("%Y-%m-%dT%H:%M:%SZ")
    return documents


def _full(computed: Computed) -> Dates:
    """The dated fields as the full computation leaves them."""
    return (
        computed.deadline,
        computed.zone,
        computed.local_date,
        computed.alt,
        computed.strict,
        computed.retain_until,
        computed.possible_extension,
        computed.extra or None,
    )


def _anchored(timing: Timing, events: dict[str, datetime]) -> list[tuple[str, dict[str, datetime]]]:
    present = {name: events[name] for name in timing.clock.events if name in events}
    return [(name, present) for name in present]  # every anchor the engine could pick


def _compare_every_timing(book: RuleBook, documents: list[dict[str, Any]]) -> int:
    compared = 0
    for document in documents:
        incident = parse_input(document, rules=book)
        ctx = Context(incident.entity, incident.facts, incident.events, incident.options, incident.processor)
        for rule in book.rules:
            for timing in rule.timings:
                for anchor, anchors in _anchored(timing, incident.events):
                    full = _full(compute(timing.deadline, timing.cutoff, anchors, anchor, rule.id, ctx, book))
                    assert timing.dates is not None
                    fast = timing.dates(anchors[anchor], anchors, ctx, book)
                    assert fast == full, (rule.id, timing.label, anchor, document)
                    compared += 1
    return compared


def test_fast_deadlines_equal_the_full_computation_on_generated_incidents() -> None:
    book = load_rules()
    compared = _compare_every_timing(book, _generate(300, seed=11))
    compared += _compare_every_timing(book, _varied(_generate(300, seed=12), seed=12))
    assert compared > 5_000


def test_reports_agree_with_the_full_computation_field_by_field() -> None:
    """Every dated obligation of a report carries what `timing.compute` says for its anchor."""
    book = load_rules()
    documents = _varied(_generate(300, seed=13), seed=13)
    incidents = [parse_input(document, rules=book) for document in documents]
    seen = 0
    for incident, report in zip(incidents, evaluate_many(incidents, book, NOW), strict=True):
        ctx = Context(incident.entity, incident.facts, incident.events, incident.options, incident.processor)
        for item in report.obligations:
            if item.trigger_event is None:
                continue
            rule = book.by_id[item.rule]
            timing = next(t for t in rule.timings if t.label == item.phase)
            anchors = {name: incident.events[name] for name in timing.clock.events if name in incident.events}
            computed = compute(timing.deadline, timing.cutoff, anchors, item.trigger_event, rule.id, ctx, book)
            alt = computed.alt
            if alt is not None and computed.deadline is not None and alt <= computed.deadline:
                alt = None
            assert item.deadline_utc == computed.deadline
            assert item.strict_deadline_utc == computed.strict
            assert item.alt_deadline_utc == alt
            assert item.day_boundary_tz == computed.zone
            assert item.retain_until_local_date == computed.retain_until
            assert item.explanation.startswith(f"{rule.id}{timing.label_text}: {computed.render()}")
            seen += 1
    assert seen > 500


def test_batch_and_single_reports_render_the_same_json() -> None:
    book = load_rules()
    documents = _varied(_generate(200, seed=14), seed=14)
    incidents = [parse_input(document, rules=book) for document in documents]
    batch = [report.to_dict() for report in evaluate_many(incidents, book, NOW)]
    single = [evaluate(incident, book, NOW).to_dict() for incident in incidents]
    assert batch == single
    assert sum(len(report["obligations"]) for report in batch) > 1_000


def test_effective_date_window_is_safe_in_every_zone() -> None:
    """A clock start at or after `surely_effective_from` is on or after the effective date in the
    most eastern and the most western zones; earlier starts are checked on their local date."""
    extremes = [ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12"), ZoneInfo("UTC")]
    for rule in load_rules().rules:
        if rule.effective_from is None:
            assert rule.surely_effective_from is None
            continue
        surely = rule.surely_effective_from
        assert surely is not None
        zones = [*extremes, *([rule.effective_zone] if rule.effective_zone else [])]
        for zone in zones:
            assert surely.astimezone(zone).date() >= rule.effective_from, (rule.id, zone)


def test_clock_start_just_before_the_effective_date_is_refused() -> None:
    book = load_rules()
    rule = book.by_id["us.sec.8k_item105.initial"]
    assert rule.effective_from is not None
    day: date = rule.effective_from
    before = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=30)
    report = evaluate(
        parse_input(
            {
                "entity": {"sec_registrant_filing_8k": True},
                "events": {"materiality_determined": before.strftime("%Y-%m-%dT%H:%M:%SZ")},
            },
            rules=book,
        ),
        book,
        NOW,
    )
    reasons = {entry.rule: entry.reason for entry in report.not_triggered}
    assert "before the rule's effective date" in reasons[rule.id]
