"""Which rules apply: thresholds on both sides (gt vs gte), absent-fact semantics, several
regimes at once, one item per SA without an EU establishment, effective dates, proposed rules."""

from __future__ import annotations

import pytest

from tests.clock.cli import deadline, items, one, reason, report

DETERMINED = "2027-02-01T12:00:00-05:00"


def _states(counts: dict[str, int]) -> dict:
    return report(
        {
            "facts": {
                "residents_affected": counts,
                "breach_of_unencrypted_pi": True,
                "substantial_harm_reasonably_likely": True,
            },
            "events": {
                "state_breach_determined": DETERMINED,
                "state_breach_discovered": DETERMINED,
                "consumers_notified": "2027-02-20T10:00:00-08:00",
            },
        }
    )


@pytest.mark.parametrize(
    ("rule", "state", "below", "at_or_above"),
    [
        ("us.tx.521_053.attorney_general", "TX", 249, 250),  # at least 250
        ("us.co.6_1_716.attorney_general", "CO", 499, 500),  # 500 or more
        ("us.fl.501_171.dept_legal_affairs", "FL", 499, 500),  # 500 or more
        ("us.wa.19_255.attorney_general", "WA", 500, 501),  # more than 500
        ("us.ca.1798_82.attorney_general", "CA", 500, 501),  # more than 500
        ("us.de.12b_102.attorney_general", "DE", 500, 501),  # exceeds 500
        ("us.or.646a_604.attorney_general", "OR", 250, 251),  # exceeds 250
        ("us.al.8_38.attorney_general", "AL", 1000, 1001),  # exceeds 1,000
    ],
)
def test_state_regulator_thresholds_on_both_sides(rule: str, state: str, below: int, at_or_above: int) -> None:
    assert f"residents_affected[{state}]={below}" in reason(_states({state: below}), rule)
    assert len(items(_states({state: at_or_above}), rule)) == 1


def test_hipaa_media_is_per_state_more_than_500_and_hhs_counts_the_total() -> None:
    def hipaa(counts: dict[str, int], total: int | None) -> dict:
        facts: dict = {"breach_of_unsecured_phi": True, "residents_affected": counts}
        if total is not None:
            facts["total_individuals"] = total
        return report(
            {
                "entity": {"hipaa_covered_entity": True, "timezone": "America/New_York"},
                "facts": facts,
                "events": {"hipaa_breach_discovered": "2027-01-15T10:00:00-05:00"},
            }
        )

    exactly_500 = hipaa({"NY": 500}, 500)
    assert "needs one jurisdiction > 500" in reason(exactly_500, "us.hipaa.164_406.media")
    assert len(items(exactly_500, "us.hipaa.164_408.hhs_500_plus")) == 1  # 500 or more: contemporaneous
    assert "total_individuals=500" in reason(exactly_500, "us.hipaa.164_408.hhs_under_500_annual")
    spread = hipaa({"CA": 200, "NV": 200, "AZ": 200}, None)  # 600 in total from the per-state counts
    assert "us.hipaa.164_406.media" in {n["rule"] for n in spread["not_triggered"]}
    assert len(items(spread, "us.hipaa.164_408.hhs_500_plus")) == 1
    two_states = hipaa({"NY": 501, "NJ": 700, "CT": 20}, 1221)
    media = items(two_states, "us.hipaa.164_406.media")
    assert sorted(item["recipient"] for item in media) == [
        "prominent New Jersey media outlets",
        "prominent New York media outlets",
    ]
    # D0 2027-01-15 + 60 = 2027-03-16, 23:59:59 EDT = 2027-03-17 03:59:59Z for both.
    assert {item["deadline_utc"] for item in media} == {"2027-03-17T03:59:59Z"}
    under = hipaa({"NY": 499}, 499)
    assert len(items(under, "us.hipaa.164_408.hhs_under_500_annual")) == 1
    assert "total_individuals=499" in reason(under, "us.hipaa.164_408.hhs_500_plus")


@pytest.mark.parametrize(("count", "owed"), [(499, False), (500, True)])
def test_singapore_scale_threshold(count: int, owed: bool) -> None:
    out = report(
        {
            "facts": {"likely_significant_harm": False, "individuals_affected": count},
            "events": {"sg_assessed_notifiable": "2027-06-01T09:00:00+08:00"},
        }
    )
    assert bool(items(out, "sg.pdpa.26d.pdpc")) is owed
    assert "likely_significant_harm" in reason(out, "sg.pdpa.26d.individuals") or not owed


@pytest.mark.parametrize(("count", "owed"), [(1000, False), (1001, True)])
def test_japan_more_than_1000(count: int, owed: bool) -> None:
    facts = {
        "individuals_affected": count,
        "sensitive_personal_information": False,
        "property_damage_risk": False,
        "possibly_unlawful_purpose": False,
    }
    out = report({"facts": facts, "events": {"jp_knew_reportable_situation": "2027-05-10T10:00:00+09:00"}})
    assert bool(items(out, "jp.appi.26.preliminary")) is owed
    assert bool(items(out, "jp.appi.26.final")) is owed


def test_absent_facts_never_exclude_and_exception_flags_default_false() -> None:
    # Only the awareness event: GDPR 72 h is due; the trust-service style switches stay off.
    out = report(
        {"entity": {"main_establishment": "IE"}, "events": {"aware_personal_data_breach": "2027-05-12T07:15:00Z"}}
    )
    sa = one(out, "eu.gdpr.art33.supervisory_authority")
    assert sa["deadline_utc"] == "2027-05-15T07:15:00Z" and "Data Protection Commission" in sa["recipient"]
    assert "not asserted" in sa["explanation"] and "personal_data_breach" in sa["explanation"]
    # An explicit exception excludes the SA notice but not the internal record.
    out = report(
        {
            "entity": {"roles": ["controller"]},
            "facts": {"unlikely_to_result_in_risk": True},
            "events": {"aware_personal_data_breach": "2027-05-12T07:15:00Z"},
        }
    )
    assert "unlikely_to_result_in_risk" in reason(out, "eu.gdpr.art33.supervisory_authority")
    assert one(out, "eu.gdpr.art33.internal_record")["deadline_kind"] == "no_fixed_deadline"
    # An explicit false required fact excludes; a processor-only role excludes controller duties.
    out = report(
        {
            "entity": {"roles": ["processor"]},
            "facts": {"personal_data_breach": True},
            "events": {"aware_personal_data_breach": "2027-05-12T07:15:00Z", "processor_aware": "2027-05-11T07:15:00Z"},
        }
    )
    assert "do not include controller" in reason(out, "eu.gdpr.art33.supervisory_authority")
    assert one(out, "eu.gdpr.art33.processor_to_controller")["deadline_kind"] == "no_fixed_deadline"


def test_no_one_stop_shop_gives_one_item_per_supervisory_authority() -> None:
    # Aware 2027-09-01 16:00Z + 72 h = 2027-09-04 16:00Z for every SA; GB data subjects bring the ICO in too.
    out = report(
        {
            "entity": {
                "name": "US Shop",
                "roles": ["controller"],
                "eu_establishment": False,
                "gdpr_art3_2_applies": True,
                "timezone": "America/New_York",
            },
            "facts": {"personal_data_breach": True, "data_subjects": {"FR": 10, "DE": 5, "GB": 3}},
            "events": {"aware_personal_data_breach": "2027-09-01T12:00:00-04:00"},
        }
    )
    sas = items(out, "eu.gdpr.art33.supervisory_authority")
    assert len(sas) == 2 and {item["deadline_utc"] for item in sas} == {"2027-09-04T16:00:00Z"}
    assert any("CNIL" in item["recipient"] for item in sas) and any("German" in item["recipient"] for item in sas)
    assert deadline(out, "uk.gdpr.art33.ico") == "2027-09-04T16:00:00Z"


def test_several_regimes_at_once() -> None:
    # One incident: EU controller with a UK establishment, NIS2 essential entity, Texas and New York residents.
    out = report(
        {
            "entity": {
                "roles": ["controller"],
                "main_establishment": "NL",
                "uk_establishment": True,
                "member_state": "NL",
                "nis2_class": "essential",
                "nis2_transposed": True,
                "timezone": "Europe/Amsterdam",
            },
            "facts": {
                "personal_data_breach": True,
                "significant_incident": True,
                "residents_affected": {"TX": 300, "NY": 40},
            },
            "events": {
                "aware_personal_data_breach": "2027-03-26T18:00:00+01:00",  # 17:00Z; EU DST starts Mar 28
                "aware_significant_incident": "2027-03-26T18:00:00+01:00",
                "state_breach_determined": "2027-03-27T10:00:00-05:00",
                "state_breach_discovered": "2027-03-27T10:00:00-05:00",
            },
        }
    )
    assert deadline(out, "eu.gdpr.art33.supervisory_authority") == "2027-03-29T17:00:00Z"  # 17:00Z + 72 h
    assert deadline(out, "uk.gdpr.art33.ico") == "2027-03-29T17:00:00Z"
    assert deadline(out, "eu.nis2.art23.early_warning") == "2027-03-27T17:00:00Z"  # + 24 h
    # Texas: D0 Mar 27 (Chicago) + 30 = Apr 26 23:59:59 CDT = Apr 27 04:59:59Z; New York + 30 = Apr 26 EDT.
    assert deadline(out, "us.tx.521_053.attorney_general") == "2027-04-27T04:59:59Z"
    assert deadline(out, "us.ny.gbl_899aa.individuals") == "2027-04-27T03:59:59Z"
    assert one(out, "us.ny.gbl_899aa.state_agencies")["deadline_kind"] == "no_fixed_deadline"


def test_effective_date_uses_the_local_date_of_the_trigger() -> None:
    # DPDP rule 7 applies from 2027-05-13 (India). 2027-05-12T20:00Z is 2027-05-13 01:30 IST: in force;
    # 72 h -> 2027-05-15T20:00:00Z. 2027-05-12T18:00Z is 23:30 IST on 12 May: not yet in force.
    doc = {
        "entity": {"roles": ["data_fiduciary"]},
        "facts": {"personal_data_breach": True},
        "events": {"in_aware_personal_data_breach": "2027-05-12T20:00:00Z"},
    }
    assert deadline(report(doc), "in.dpdp.rule7.board_detailed") == "2027-05-15T20:00:00Z"
    doc["events"]["in_aware_personal_data_breach"] = "2027-05-12T18:00:00Z"
    assert "effective date 2027-05-13" in reason(report(doc), "in.dpdp.rule7.board_detailed")
    # California's 30-day rule starts 2026-01-01 in Los Angeles: 2026-01-01T03:00Z is still 31 Dec there.
    ca = report(
        {"facts": {"residents_affected": {"CA": 5}}, "events": {"state_breach_discovered": "2026-01-01T03:00:00Z"}}
    )
    assert "2025-12-31" in reason(ca, "us.ca.1798_82.individuals")


def test_proposed_rules_only_with_include_proposed() -> None:
    doc = {
        "entity": {"roles": ["controller"], "main_establishment": "FR", "circia_covered_entity": True},
        "facts": {
            "personal_data_breach": True,
            "likely_high_risk_to_individuals": True,
            "substantial_cyber_incident": True,
            "extortion_payment_made": True,
        },
        "events": {
            "aware_personal_data_breach": "2027-05-12T07:15:00Z",
            "reasonable_belief_covered_incident": "2027-05-12T08:00:00Z",
            "extortion_payment_made": "2027-05-13T10:00:00Z",
        },
    }
    out = report(doc)
    for rule in (
        "eu.digital_omnibus.gdpr_breach_reform",
        "us.circia.covered_cyber_incident",
        "us.circia.ransom_payment",
    ):
        assert "include_proposed" in reason(out, rule)
    out = report({**doc, "options": {"include_proposed": True}})
    omnibus = one(out, "eu.digital_omnibus.gdpr_breach_reform")
    assert (omnibus["deadline_utc"], omnibus["status"]) == ("2027-05-16T07:15:00Z", "proposed_not_in_force")  # + 96 h
    assert deadline(out, "eu.gdpr.art33.supervisory_authority") == "2027-05-15T07:15:00Z"  # 72 h still reported
    assert deadline(out, "us.circia.covered_cyber_incident") == "2027-05-15T08:00:00Z"  # + 72 h
    assert deadline(out, "us.circia.ransom_payment") == "2027-05-14T10:00:00Z"  # + 24 h


@pytest.mark.parametrize(
    ("operator_type", "hours_later"),
    [("cii_operator", "09:00"), ("central_state_organ", "10:00"), ("other_network_operator", "12:00")],
)
def test_cac_period_and_recipient_by_operator_type(operator_type: str, hours_later: str) -> None:
    # Discovered 2027-06-01 16:00 CST (08:00Z) + 1 / 2 / 4 h.
    out = report(
        {
            "entity": {"cn_operator_type": operator_type},
            "facts": {"cn_incident_grade": "relatively_major"},
            "events": {"cn_discovered_incident": "2027-06-01T16:00:00+08:00"},
        }
    )
    assert deadline(out, "cn.cac.incident_report") == f"2027-06-01T{hours_later}:00Z"
    low = report(
        {
            "entity": {"cn_operator_type": operator_type},
            "facts": {"cn_incident_grade": "general"},
            "events": {"cn_discovered_incident": "2027-06-01T16:00:00+08:00"},
        }
    )
    assert "below" in reason(low, "cn.cac.incident_report")


def test_regimes_in_scope_only_limits_evaluation() -> None:
    out = report(
        {
            "entity": {"hipaa_covered_entity": True, "timezone": "America/Chicago"},
            "facts": {"breach_of_unsecured_phi": True, "residents_affected": {"TX": 620}, "total_individuals": 620},
            "events": {
                "hipaa_breach_discovered": "2027-01-15T10:00:00-06:00",
                "state_breach_determined": "2027-01-15T10:00:00-06:00",
            },
            "regimes_in_scope_only": ["us.hipaa"],
        }
    )
    assert {item["rule"] for item in out["obligations"]} == {
        "us.hipaa.164_404.individuals",
        "us.hipaa.164_408.hhs_500_plus",
        "us.hipaa.164_406.media",
    }
    assert "regimes_in_scope_only" in reason(out, "us.tx.521_053.individuals")
