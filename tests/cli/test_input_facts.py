"""Issue #15: every door that takes an incident's facts refuses unknown country codes and events implausibly
far in the future (more than TOCSIN_FUTURE_EVENT_SKEW_HOURS ahead of the clock's now; a simulated drill clock
moves "now" with it). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import ok, run_cli
from tocsin.core.clocks import FixedClock, iso_utc, use_clock, utcnow

FACTS = """entity:
  name: Boutique SAS
  roles: [controller]
  main_establishment: FR
facts:
  personal_data_breach: true
  data_subjects: {{{country}: 900}}
events:
  aware_personal_data_breach: "{aware}"
"""


def _declare() -> int:
    return int(ok("declare", "--title", "Backups exposed", "--as", "alice", "--json").json()["id"])


def _facts(tmp_path: Path, *, country: str = "FR", aware: str | None = None) -> Path:
    path = tmp_path / "facts.yaml"
    path.write_text(FACTS.format(country=country, aware=aware or iso_utc(utcnow() - timedelta(hours=2))))
    return path


def _stored_facts(incident: int) -> dict:
    return ok("show", str(incident), "--json").json().get("facts") or {}


def test_a_mistyped_country_is_refused_at_the_facts_door(tocsin_db: str, tmp_path: Path) -> None:
    incident = _declare()
    refused = run_cli("facts", str(incident), str(_facts(tmp_path, country="FX")), "--as", "alice")
    assert refused.exit_code == 2, refused.stderr
    assert "facts.yaml:7: facts.data_subjects.FX: 'FX' is not a country code (did you mean FR?)" in refused.stderr
    assert _stored_facts(incident) == {}
    ok("facts", str(incident), str(_facts(tmp_path, country="FR")), "--as", "alice")
    assert _stored_facts(incident)["facts"]["data_subjects"] == {"FR": 900}


def test_the_what_if_door_refuses_it_too(tmp_path: Path) -> None:
    refused = run_cli("obligations", str(_facts(tmp_path, country="XX")))
    assert (
        refused.exit_code == 2 and "facts.yaml:7: facts.data_subjects.XX: 'XX' is not a country code" in refused.stderr
    )


def test_an_event_in_2099_is_refused_with_the_field_and_the_value(tocsin_db: str, tmp_path: Path) -> None:
    incident = _declare()
    refused = run_cli("facts", str(incident), str(_facts(tmp_path, aware="2099-03-09T07:00:00Z")), "--as", "alice")
    assert refused.exit_code == 2, refused.stderr
    assert "facts.yaml:9: events.aware_personal_data_breach: 2099-03-09T07:00:00Z is" in refused.stderr
    assert "TOCSIN_FUTURE_EVENT_SKEW_HOURS" in refused.stderr
    assert _stored_facts(incident) == {}
    soon = iso_utc(utcnow() + timedelta(hours=3))  # within the default day of skew (zones, clocks)
    ok("facts", str(incident), str(_facts(tmp_path, aware=soon)), "--as", "alice")


def test_the_skew_is_a_setting(tocsin_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    incident = _declare()
    monkeypatch.setenv("TOCSIN_FUTURE_EVENT_SKEW_HOURS", "0")
    from tocsin.core.config import get_settings

    get_settings.cache_clear()
    soon = iso_utc(utcnow() + timedelta(hours=3))
    refused = run_cli("facts", str(incident), str(_facts(tmp_path, aware=soon)), "--as", "alice")
    assert refused.exit_code == 2 and "at most 0 h ahead" in refused.stderr


def test_a_drill_on_a_simulated_clock_may_use_its_own_future(tocsin_db: str, tmp_path: Path) -> None:
    previous = use_clock(FixedClock(datetime(2099, 3, 9, 8, tzinfo=UTC)))  # a drill set in 2099
    try:
        incident = _declare()
        ok("facts", str(incident), str(_facts(tmp_path, aware="2099-03-09T07:00:00Z")), "--as", "alice")
        assert _stored_facts(incident)["events"]["aware_personal_data_breach"] == "2099-03-09T07:00:00Z"
    finally:
        use_clock(previous)


@pytest.mark.parametrize(
    ("country", "aware", "expected"),
    [
        ("FX", None, "facts.yaml:7: facts.data_subjects.FX: 'FX' is not a country code (did you mean FR?)"),
        ("FR", "2099-03-09T07:00:00Z", "facts.yaml:9: events.aware_personal_data_breach: 2099-03-09T07:00:00Z is"),
    ],
)
def test_every_door_names_the_same_file_and_line(
    tocsin_db: str, tmp_path: Path, country: str, aware: str | None, expected: str
) -> None:
    """`tocsin facts` and `declare --facts` read a facts file as `tocsin obligations` does (with line marks)."""
    incident = _declare()
    path = _facts(tmp_path, country=country, aware=aware)
    doors = {
        "facts": run_cli("facts", str(incident), str(path), "--as", "alice"),
        "declare --facts": run_cli("declare", "--title", "Again", "--facts", str(path), "--as", "alice"),
    }
    if aware is None:  # the what-if door has no "now" to compare events with
        doors["obligations"] = run_cli("obligations", str(path))
    for door, refused in doors.items():
        assert refused.exit_code == 2, (door, refused.stderr)
        assert refused.stderr.startswith(f"error: {path.parent}/") and expected in refused.stderr, (
            door,
            refused.stderr,
        )
    assert _stored_facts(incident) == {}
    assert len(ok("incidents", "--json").json()) == 1  # the declare refused created nothing


def test_a_broken_or_empty_facts_file_is_refused_alike_by_every_door(tocsin_db: str, tmp_path: Path) -> None:
    incident = _declare()
    broken, empty = tmp_path / "broken.yaml", tmp_path / "empty.yaml"
    broken.write_text("facts: {personal_data_breach: true\n")
    empty.write_text("")
    for path, expected in (
        (broken, f"error: {broken}:2:1: invalid YAML or JSON: did not find expected ',' or '}}'"),
        (empty, f"error: {empty}: (document): the input document must be a mapping"),
    ):
        for args in (("obligations",), ("facts", str(incident)), ("declare", "--title", "X", "--facts")):
            refused = run_cli(*args, str(path))
            assert refused.exit_code == 2 and refused.stderr.startswith(expected), (args, refused.stderr)


def test_a_json_facts_file_gets_lines_too_and_norway_stays_a_country(tocsin_db: str, tmp_path: Path) -> None:
    incident = _declare()
    path = tmp_path / "facts.json"
    path.write_text('{\n  "facts": {\n    "data_subjects": {"XQ": 3}\n  }\n}\n')
    refused = run_cli("facts", str(incident), str(path), "--as", "alice")
    assert refused.exit_code == 2 and f"{path}:3: facts.data_subjects.XQ" in refused.stderr
    norway = tmp_path / "no.yaml"
    norway.write_text("facts:\n  personal_data_breach: true\n  data_subjects: {NO: 40}\n")
    ok("facts", str(incident), str(norway), "--as", "alice")
    assert _stored_facts(incident)["facts"]["data_subjects"] == {"NO": 40}  # YAML 1.1 would have read False
