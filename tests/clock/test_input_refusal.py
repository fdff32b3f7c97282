"""Refused inputs: the message names the key (and file:line for files); nothing is computed."""

from __future__ import annotations

from pathlib import Path

import pytest
from tocsin.clock import compute_obligations, parse_input

from tests.helpers import run_cli
from tocsin.core.errors import InvalidInput

AWARE = {"aware_personal_data_breach": "2027-05-12T09:15:00+02:00"}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"facts": {"personal_data_breech": True}},
            "facts.personal_data_breech: unknown key (did you mean personal_data_breach?)",
        ),
        ({"entity": {"timezon": "UTC"}}, "entity.timezon: unknown key (did you mean timezone?)"),
        (
            {"events": {"aware_personal_data_breech": "2027-05-12T09:15:00Z"}},
            "events.aware_personal_data_breech: unknown key",
        ),
        (
            {"options": {"include_proposal": True}},
            "options.include_proposal: unknown key (did you mean include_proposed?)",
        ),
        ({"fact": {}}, "fact: unknown key (did you mean facts?)"),
        (
            {"events": {"aware_personal_data_breach": "2027-05-12T09:15:00"}},
            "events.aware_personal_data_breach: 2027-05-12T09:15:00 has no UTC offset",
        ),
        (
            {"events": {"aware_personal_data_breach": "2027-05-12"}},
            "events.aware_personal_data_breach: '2027-05-12' is a date",
        ),
        ({"events": {"aware_personal_data_breach": None}}, "omitted, not null"),
        ({"facts": {"residents_affected": {"TX": -1}}}, "facts.residents_affected.TX: -1 is negative"),
        ({"facts": {"total_individuals": 12.5}}, "facts.total_individuals: 12.5 is not a whole number"),
        ({"facts": {"total_individuals": "500"}}, "facts.total_individuals: '500' is not a whole number"),
        (
            {"facts": {"residents_affected": {"Texas": 3}}},
            "facts.residents_affected.Texas: 'Texas' is not a jurisdiction code",
        ),
        (
            {"entity": {"nis2_class": "critical"}},
            "entity.nis2_class: unknown value 'critical'; expected one of essential, important",
        ),
        ({"entity": {"roles": ["controler"]}}, "entity.roles[0]: unknown value 'controler'"),
        ({"entity": {"member_state": "US"}}, "entity.member_state: 'US' is not an EU/EEA country code"),
        ({"entity": {"timezone": "Mars/Olympus"}}, "entity.timezone: 'Mars/Olympus' is not an IANA time zone"),
        ({"facts": {"personal_data_breach": "yes"}}, "facts.personal_data_breach: 'yes' is not true or false"),
        (
            {"events": {"submitted:eu.gdpr.art33.nope": "2027-05-12T09:15:00Z"}},
            "events.submitted:eu.gdpr.art33.nope: unknown key",
        ),
        ({"regimes_in_scope_only": ["us.hippa"]}, "regimes_in_scope_only[0]: 'us.hippa' is the prefix of no rule id"),
    ],
)
def test_refused_with_the_key_named(document: dict, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_input(document)
    assert message in str(refused.value)


def test_top_level_processor_and_scope_are_valid() -> None:
    incident = parse_input(
        {
            "entity": {"roles": ["controller"]},
            "processor": {"name": "Acme Cloud", "roles": ["processor"]},
            "events": AWARE,
            "regimes_in_scope_only": ["eu.gdpr"],
        }
    )
    assert incident.processor == {"name": "Acme Cloud", "roles": ["processor"]}
    assert incident.events["aware_personal_data_breach"].isoformat() == "2027-05-12T07:15:00+00:00"


def test_engine_api_refuses_the_same_way() -> None:
    with pytest.raises(InvalidInput, match=r"facts\.personal_data_breech"):
        compute_obligations({}, {"personal_data_breech": True}, AWARE, {})


def test_cli_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "incident.yaml"
    path.write_text("entity:\n  name: Boutique\nfacts:\n  residents_affected: {TX: -4}\nevents: {}\n", encoding="utf-8")
    result = run_cli("obligations", str(path), "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert (
        result.stderr.strip()
        == f"error: {path}:4: facts.residents_affected.TX: -4 is negative: counts must be 0 or more"
    )


def test_cli_refuses_unquoted_naive_time_and_bad_now(tmp_path: Path) -> None:
    path = tmp_path / "incident.yaml"
    path.write_text("events:\n  materiality_determined: 2027-03-12T23:30:00\n", encoding="utf-8")
    result = run_cli("obligations", str(path))
    assert result.exit_code == 2 and f"{path}:2: events.materiality_determined" in result.stderr
    path.write_text("events: {}\n", encoding="utf-8")
    result = run_cli("obligations", str(path), "--now", "2027-03-12T10:00:00")
    assert result.exit_code == 2 and "--now" in result.stderr and "no UTC offset" in result.stderr


def test_cli_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    assert run_cli("obligations", str(tmp_path / "absent.yaml")).exit_code == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text("facts: {personal_data_breach: true\n", encoding="utf-8")
    result = run_cli("obligations", str(broken))
    assert result.exit_code == 2 and f"{broken}:2:1: invalid YAML or JSON: did not find expected" in result.stderr
