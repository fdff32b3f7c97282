"""The rule table: a malformed one is refused at load with file, line, rule id and field; the
project table covers the reference; the holiday snapshot matches the `holidays` package."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from tocsin.clock import load_rules
from tocsin.clock.calendars import SNAPSHOT_YEARS, live_package_dates, package_dates

from tests.clock.scenarios import REPO
from tocsin.core.errors import InvalidInput

RULES = REPO / "clock" / "rules.yaml"
REFERENCE_RULES = REPO.parent / "shared" / "reference" / "regulatory-rules.yaml"


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = RULES.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "rule", "field", "message"),
    [
        (
            "deadline: {kind: elapsed_hours, amount: 72}",
            "deadline: {kind: elapsed_hours, amount: seventy-two}",
            "eu.gdpr.art33.supervisory_authority",
            "deadline.amount",
            "valid integer",
        ),
        (
            "require: {personal_data_breach: true}\n      exceptions",
            "require: {personal_data_breech: true}\n      exceptions",
            "eu.gdpr.art33.supervisory_authority",
            "applies_when.require.personal_data_breech",
            "unknown fact",
        ),
        (
            "clock_start: {events: [processor_aware]}",
            "clock_start: {events: [processor_awake]}",
            "eu.gdpr.art33.processor_to_controller",
            "clock_start.events.0",
            "unknown event 'processor_awake'",
        ),
        (
            "deadline: {kind: business_days, amount: 4, calendar: US-FED,",
            "deadline: {kind: business_days, amount: 4, calendar: US-FEDERAL,",
            "us.sec.8k_item105.initial",
            "deadline.calendar",
            "unknown calendar",
        ),
        (
            "deadline: {kind: calendar_days, amount: 60, tz: America/Chicago,",
            "deadline: {kind: calendar_days, amount: 60, tz: America/Chicaco,",
            "us.tx.521_053.individuals",
            "deadline.tz",
            "unknown time zone",
        ),
        (
            '    status: in_force\n    confidence: verified\n    notes: "Runs',
            '    status: in_farce\n    confidence: verified\n    notes: "Runs',
            "eu.gdpr.art33.supervisory_authority",
            "status",
            "Input should be",
        ),
        (
            'deadline: {kind: elapsed_hours, amount: 24}\n    qualifier: "without undue delay and in any '
            'event within 24 hours"\n    citation: "Directive (EU) 2022/2555 Art. 23(4)(a)"',
            'deadline: {kind: elapsed_hours, amount: 24, amout: 3}\n    qualifier: "without undue delay and in '
            'any event within 24 hours"\n    citation: "Directive (EU) 2022/2555 Art. 23(4)(a)"',
            "eu.nis2.art23.early_warning",
            "deadline.amout",
            "Extra inputs are not permitted",
        ),
    ],
)
def test_malformed_table_names_file_line_rule_and_field(
    tmp_path: Path, old: str, new: str, rule: str, field: str, message: str
) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(InvalidInput) as refused:
        load_rules(path)
    error = refused.value
    assert message in error.message
    assert error.where is not None and error.where.startswith(f"{path}:")
    assert f" rule {rule} field {field}" in error.where
    line = int(error.where.split(":")[1].split()[0])
    assert line == _line_of(path, new.split("\n")[0].strip())


def test_missing_field_is_named(tmp_path: Path) -> None:
    path = _broken(tmp_path, '    citation: "GDPR Art. 33(2)"\n', "")
    with pytest.raises(InvalidInput, match="Field required") as refused:
        load_rules(path)
    assert str(refused.value.where).endswith("rule eu.gdpr.art33.processor_to_controller field citation")


def test_missing_citation_and_follow_up_cycle(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'citation: "GDPR Art. 33(2)"', 'citation: ""')
    with pytest.raises(InvalidInput, match="at least 1 character") as refused:
        load_rules(path)
    assert "rule eu.gdpr.art33.processor_to_controller field citation" in str(refused.value.where)
    path = _broken(tmp_path, "follows: [us.tx.521_053.individuals]", "follows: [us.tx.521_053.attorney_general]")
    with pytest.raises(InvalidInput, match="unknown or self rule id"):
        load_rules(path)


def test_project_table_covers_every_reference_rule() -> None:
    if not REFERENCE_RULES.is_file():
        pytest.skip(f"shared reference folder absent: {REFERENCE_RULES}")
    reference = yaml.safe_load(REFERENCE_RULES.read_text(encoding="utf-8"))
    obligations = {rule["id"] for rule in reference["rules"] if rule.get("kind") != "modifier"}
    book = load_rules()
    assert obligations == set(book.rule_ids)
    modifiers = {relief.spec.source_rule for relief in book.reliefs.values()}
    assert modifiers == {rule["id"] for rule in reference["rules"] if rule.get("kind") == "modifier"}
    by_id = {rule["id"]: rule for rule in reference["rules"]}
    for rule in book.table.rules:  # same citation and confidence as the reference
        assert (rule.citation, rule.confidence) == (by_id[rule.id]["citation"], by_id[rule.id]["confidence"]), rule.id


def test_reference_calendars_agree_with_the_project_calendars() -> None:
    if not REFERENCE_RULES.is_file():
        pytest.skip(f"shared reference folder absent: {REFERENCE_RULES}")
    calendars = yaml.safe_load(REFERENCE_RULES.read_text(encoding="utf-8"))["calendars"]
    book = load_rules().calendars
    for name, spec in calendars.items():
        for year, days in spec["dates"].items():
            listed = {date.fromisoformat(day) for day in days}
            weekdays = {day for day in book.holidays(name, int(year)) if day.weekday() < 5}
            assert {day for day in listed if day.weekday() < 5} == weekdays, (name, year)


@pytest.mark.parametrize(
    ("country", "subdiv", "year"),
    [
        ("US", None, 2027),
        ("US", "VT", 2031),
        ("IE", None, 2027),
        ("BR", None, 2030),
        ("JP", None, 2028),
        ("DE", None, 2035),
    ],
)
def test_holiday_snapshot_matches_the_holidays_package(country: str, subdiv: str | None, year: int) -> None:
    assert year in SNAPSHOT_YEARS
    assert package_dates(country, subdiv, year) == live_package_dates(country, subdiv, year)
