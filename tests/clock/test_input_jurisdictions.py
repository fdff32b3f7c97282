"""Issue #15: jurisdiction codes in the clock's input are checked against ISO 3166-1 (pycountry) and the rule
table's US states; a typo is refused with the field path and a suggestion, never silently dropped."""

from __future__ import annotations

from typing import Any

import pytest
from tocsin.clock import parse_input

from tocsin.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"facts": {"data_subjects": {"FR": 3, "FX": 2}}},
            "facts.data_subjects.FX: 'FX' is not a country code (did you mean FR?)",
        ),
        (
            {"facts": {"data_subjects": {"XX": 2}}},
            "facts.data_subjects.XX: 'XX' is not a country code; expected an ISO",
        ),
        (
            {"facts": {"data_subjects": {"UK": 2}}},
            "facts.data_subjects.UK: 'UK' is not a country code (did you mean GB?)",
        ),
        (
            {"facts": {"residents_affected": {"US-TX": 300}}},
            "facts.residents_affected.US-TX: 'US-TX' is not a jurisdiction code (did you mean TX?)",
        ),
        (
            {"facts": {"residents_affected": {"XX": 300}}},
            "facts.residents_affected.XX: 'XX' is not a jurisdiction code; expected a USPS",
        ),
        ({"facts": {"residents_affected": {"Canada": 3}}}, "(did you mean CA-country?)"),
        (
            {"entity": {"member_state": "FX"}},
            "entity.member_state: 'FX' is not an EU/EEA country code (did you mean FR?)",
        ),
    ],
)
def test_unknown_jurisdiction_codes_are_refused_with_a_suggestion(document: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_input(document)
    assert message in str(refused.value)


def test_the_codes_the_rule_tables_use_stay_valid() -> None:
    document = {
        "entity": {"main_establishment": "FR", "member_state": "DE"},
        "facts": {
            "data_subjects": {"FR": 41200, "DE": 5300, "BE": 870, "GB": 2100, "EU": 10},
            "residents_affected": {"TX": 249, "CA": 501, "DC": 1, "PR": 2, "GU": 1, "ZA": 3, "CH": 4, "CA-country": 5},
        },
    }
    parsed = parse_input(document)
    assert parsed.facts["data_subjects"]["GB"] == 2100
    assert parsed.facts["residents_affected"]["CA-country"] == 5


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (  # lowercase ca: Canada in data_subjects, California in residents_affected; both readings said
            {"facts": {"data_subjects": {"ca": 2}}},
            "facts.data_subjects.ca: 'ca' is not a country code (did you mean CA, Canada? data_subjects takes "
            "countries; California, the US state CA, goes in residents_affected); expected an ISO",
        ),
        (
            {"facts": {"residents_affected": {"ca": 2}}},
            "facts.residents_affected.ca: 'ca' is not a jurisdiction code "
            "(did you mean CA (California, the US state) or CA-country (Canada)?); expected a USPS",
        ),
        (
            {"facts": {"residents_affected": {"de": 2}}},
            "'de' is not a jurisdiction code (did you mean DE (Delaware, the US state)? Germany, the country DE, "
            "goes in data_subjects); expected",
        ),
        (
            {"facts": {"data_subjects": {"in": 2}}},
            "'in' is not a country code (did you mean IN, India? data_subjects takes countries; Indiana, "
            "the US state IN, goes in residents_affected)",
        ),
        (
            {"facts": {"residents_affected": {"ga": 2}}},
            "(did you mean GA (Georgia, the US state)? Gabon, the country GA, goes in data_subjects)",
        ),
        (  # a country by name whose code is a state code here: not suggested as that state
            {"facts": {"residents_affected": {"Germany": 2}}},
            "'Germany' is not a jurisdiction code (Germany, the country DE, goes in data_subjects: "
            "here DE is Delaware); expected",
        ),
        (
            {"facts": {"residents_affected": {"Georgia": 2}}},
            "(did you mean GA (Georgia, the US state) or GE (Georgia, the country)?)",
        ),
        ({"facts": {"data_subjects": {"Germany": 2}}}, "'Germany' is not a country code (did you mean DE?)"),
        (
            {"facts": {"data_subjects": {"Texas": 2}}},
            "'Texas' is not a country code (Texas, the US state TX, goes in residents_affected); expected",
        ),
        ({"facts": {"residents_affected": {"Texas": 2}}}, "'Texas' is not a jurisdiction code (did you mean TX?)"),
        ({"facts": {"residents_affected": {"tx": 2}}}, "'tx' is not a jurisdiction code (did you mean TX?)"),
        ({"facts": {"residents_affected": {"FX": 2}}}, "'FX' is not a jurisdiction code (did you mean FR?)"),
        ({"facts": {"residents_affected": {"UK": 2}}}, "'UK' is not a jurisdiction code (did you mean GB?)"),
        ({"facts": {"residents_affected": {"XX": 2}}}, "'XX' is not a jurisdiction code; expected a USPS"),
    ],
)
def test_a_code_that_is_a_country_and_a_state_gets_both_readings(document: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_input(document)
    assert message in str(refused.value)


def test_real_codes_are_taken_as_written_in_the_field_that_reads_them() -> None:
    """TZ is Tanzania (not a typo of TX that can be caught); CA, DE and IN are countries in data_subjects and
    states in residents_affected."""
    parsed = parse_input(
        {
            "facts": {
                "data_subjects": {"CA": 1, "DE": 2, "IN": 3},
                "residents_affected": {"TZ": 4, "CA": 5, "DE": 6, "IN": 7, "CA-country": 8},
            }
        }
    )
    assert parsed.facts["data_subjects"] == {"CA": 1, "DE": 2, "IN": 3}
    assert parsed.facts["residents_affected"] == {"TZ": 4, "CA": 5, "DE": 6, "IN": 7, "CA-country": 8}
