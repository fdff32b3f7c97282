"""The slim Obligation (per-rule constants read through its compiled rule, secondary dates from
the deadline tuple, explanation written by the incident's Writer) reads like the plain record it
replaced: every field, copies per recipient with their own `extra`, equality on the fields."""

from __future__ import annotations

from datetime import UTC, datetime

from tocsin.clock import evaluate, load_rules, parse_input
from tocsin.clock.results import iso_z

NOW = datetime(2027, 6, 1, tzinfo=UTC)

GDPR_WITHOUT_ONE_STOP_SHOP = {
    "entity": {"name": "Acme", "roles": ["controller"], "timezone": "Europe/Paris", "eu_establishment": False},
    "facts": {"personal_data_breach": True, "data_subjects": {"DE": 10, "FR": 20}},
    "events": {"aware_personal_data_breach": "2027-03-05T10:00:00Z"},
    "options": {},
}
DORA = {
    "entity": {"name": "Bank", "dora_entity_type": "credit_institution", "member_state": "DE"},
    "facts": {"incident_classified_major": True},
    "events": {"aware_ict_incident": "2027-03-05T22:00:00Z", "classified_major": "2027-03-05T22:00:00Z"},
    "options": {},
}


def _report(document: dict[str, object]):  # type: ignore[no-untyped-def]
    book = load_rules()
    return evaluate(parse_input(document, rules=book), book, NOW)


def test_fields_read_as_the_json_output() -> None:
    for document in (GDPR_WITHOUT_ONE_STOP_SHOP, DORA):
        report = _report(document)
        assert report.obligations
        for item, data in zip(report.obligations, report.to_dict()["obligations"], strict=True):
            assert data["rule"] == item.rule and data["recipient"] == item.recipient
            assert data["deadline_utc"] == iso_z(item.deadline_utc)
            assert data["citation"] == item.citation and data["status"] == item.status
            assert data["confidence"] == item.confidence and data["regime"] == item.regime
            assert data["obligation"] == item.obligation and data["sources"] == list(item.sources)
            assert data.get("phase") == item.phase
            assert data.get("strict_deadline_utc") == iso_z(item.strict_deadline_utc)
            assert data.get("alt_deadline_utc") == iso_z(item.alt_deadline_utc)
            assert data["explanation"] == item.explanation and item.explanation.startswith(item.rule)


def test_copies_per_recipient_own_their_extra() -> None:
    report = _report(GDPR_WITHOUT_ONE_STOP_SHOP)
    copies = [item for item in report.obligations if item.rule == "eu.gdpr.art33.supervisory_authority"]
    assert len(copies) == 2  # one notice per supervisory authority (DE, FR)
    assert copies[0].recipient != copies[1].recipient
    assert copies[0].deadline_utc == copies[1].deadline_utc
    copies[0].extra["note"] = "only here"
    assert "note" not in copies[1].extra
    assert copies[0] != copies[1]


def test_equal_reports_compare_equal() -> None:
    first, second = _report(DORA), _report(DORA)
    assert first.obligations == second.obligations
    assert [item.explanation for item in first.obligations] == [item.explanation for item in second.obligations]
    assert "Obligation(rule=" in repr(first.obligations[0])
