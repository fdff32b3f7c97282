"""Chained and phased reports (NIS2, DORA, Brazil, US AG notices) and DORA weekend/holiday relief.
Expected instants computed by hand in the comments."""

from __future__ import annotations

from tests.clock.cli import deadline, items, one, reason, report

NIS2_DE = {"nis2_class": "important", "member_state": "DE", "nis2_transposed": True, "timezone": "Europe/Berlin"}
IRISH_PAYMENT = {"dora_entity_type": "payment_institution", "member_state": "IE", "timezone": "Europe/Dublin"}


def test_nis2_final_report_pending_until_the_notification_is_submitted() -> None:
    # Aware 2027-02-10 13:30Z; notification due 2027-02-13 13:30Z (14:30 CET); if submitted then, the
    # final report is due one month later: 2027-03-13 14:30 CET = 13:30Z.
    out = report(
        {
            "entity": NIS2_DE,
            "facts": {"significant_incident": True},
            "events": {"aware_significant_incident": "2027-02-10T14:30:00+01:00"},
        }
    )
    final = one(out, "eu.nis2.art23.final_report")
    assert (final["deadline_kind"], final["deadline_utc"]) == ("pending_chained", None)
    assert final["latest_if_previous_submitted_at_deadline"] == "2027-03-13T13:30:00Z"
    assert "BSI" in final["recipient"]


def test_nis2_trust_service_notification_replaces_the_72h_step_and_anchors_the_final_report() -> None:
    # Aware 2027-06-01 08:00Z + 24 h = 2027-06-02 08:00Z. Final: submitted 2027-06-01 20:00 CEST (18:00Z)
    # + 1 month = 2027-07-01 20:00 CEST = 18:00Z.
    entity = {**NIS2_DE, "qualified_trust_service_provider": True}
    out = report(
        {
            "entity": entity,
            "facts": {"significant_incident": True, "trust_service_provider_incident": True},
            "events": {
                "aware_significant_incident": "2027-06-01T08:00:00Z",
                "submitted:eu.nis2.art23.trust_service_notification": "2027-06-01T18:00:00Z",
            },
        }
    )
    assert deadline(out, "eu.nis2.art23.trust_service_notification") == "2027-06-02T08:00:00Z"
    assert "trust_service_provider_incident" in reason(out, "eu.nis2.art23.incident_notification")
    assert deadline(out, "eu.nis2.art23.final_report") == "2027-07-01T18:00:00Z"


def test_nis2_incident_ongoing_gives_progress_report_then_final_after_handling() -> None:
    # Progress: submitted 2027-02-12 10:00 CET (09:00Z) + 1 month = 2027-03-12 09:00Z.
    # Final after handling: handled 2027-04-02 16:00 CEST (14:00Z) + 1 month = 2027-05-02 14:00Z.
    events = {
        "aware_significant_incident": "2027-02-10T14:30:00+01:00",
        "submitted:eu.nis2.art23.incident_notification": "2027-02-12T10:00:00+01:00",
    }
    doc = {
        "entity": NIS2_DE,
        "facts": {"significant_incident": True, "incident_ongoing_at_final_deadline": True},
        "events": events,
    }
    out = report(doc)
    assert "incident_ongoing_at_final_deadline" in reason(out, "eu.nis2.art23.final_report")
    phases = {item["phase"]: item for item in items(out, "eu.nis2.art23.progress_report_and_final_after_handling")}
    assert phases["progress report"]["deadline_utc"] == "2027-03-12T09:00:00Z"
    assert phases["final report after handling"]["deadline_kind"] == "pending_chained"
    events["incident_handled"] = "2027-04-02T16:00:00+02:00"
    out = report(doc)
    phases = {item["phase"]: item for item in items(out, "eu.nis2.art23.progress_report_and_final_after_handling")}
    assert phases["final report after handling"]["deadline_utc"] == "2027-05-02T14:00:00Z"


def test_nis2_intermediate_report_only_on_request() -> None:
    doc = {
        "entity": NIS2_DE,
        "facts": {"significant_incident": True},
        "events": {"aware_significant_incident": "2027-02-10T14:30:00+01:00"},
    }
    assert "request" in reason(report(doc), "eu.nis2.art23.intermediate_report")
    doc["events"]["authority_request_intermediate"] = "2027-02-15T09:00:00Z"
    item = one(report(doc), "eu.nis2.art23.intermediate_report")
    assert (item["deadline_kind"], item["deadline_utc"]) == ("on_request", None)


def test_dora_late_classification_binds_four_hours_from_classification() -> None:
    # Aware 2027-04-06 07:00Z, classified 2027-04-08 09:00Z (> 24 h later): 09:00Z + 4 h = 13:00Z (Thu).
    out = report(
        {
            "entity": IRISH_PAYMENT,
            "facts": {"incident_classified_major": True},
            "events": {"aware_ict_incident": "2027-04-06T07:00:00Z", "classified_major": "2027-04-08T09:00:00Z"},
        }
    )
    assert deadline(out, "eu.dora.art19.initial_notification") == "2027-04-08T13:00:00Z"
    # Without a submission the intermediate report is pending; at the latest 13:00Z + 72 h = Sun 2027-04-11
    # 14:00 IST -> relief to Mon 2027-04-12 12:00 IST = 11:00Z.
    intermediate = one(out, "eu.dora.art19.intermediate_report")
    assert intermediate["deadline_kind"] == "pending_chained"
    assert intermediate["latest_if_previous_submitted_at_deadline"] == "2027-04-12T11:00:00Z"


def test_dora_relief_over_christmas_uses_the_irish_substitute_holiday_override() -> None:
    # classified 2027-12-24 22:00Z + 4 h = Sat 2027-12-25 02:00Z (aware + 24 h is later). Ireland: 25 Sat,
    # 26 Sun, 27 Mon = St Stephen's substitute (rules.yaml override; the package lacks it) -> Tue 28 12:00 GMT.
    events = {"aware_ict_incident": "2027-12-24T10:00:00Z", "classified_major": "2027-12-24T22:00:00Z"}
    initial = one(
        report({"entity": IRISH_PAYMENT, "facts": {"incident_classified_major": True}, "events": events}),
        "eu.dora.art19.initial_notification",
    )
    assert (initial["deadline_utc"], initial["strict_deadline_utc"]) == ("2027-12-28T12:00:00Z", "2027-12-25T02:00:00Z")
    # A credit institution gets no relief for the initial notification (RTS Art. 5(5)).
    bank = {**IRISH_PAYMENT, "dora_entity_type": "credit_institution"}
    initial = one(
        report({"entity": bank, "facts": {"incident_classified_major": True}, "events": events}),
        "eu.dora.art19.initial_notification",
    )
    assert initial["deadline_utc"] == "2027-12-25T02:00:00Z" and "strict_deadline_utc" not in initial
    # Nor does an entity whose authority disapplied the relief (Art. 5(6)).
    disapplied = {**IRISH_PAYMENT, "competent_authority_disapplied_relief": True}
    out = report({"entity": disapplied, "facts": {"incident_classified_major": True}, "events": events})
    assert deadline(out, "eu.dora.art19.initial_notification") == "2027-12-25T02:00:00Z"


def test_dora_final_report_relief_applies_even_to_credit_institutions() -> None:
    # Intermediate submitted Sat 2027-02-27 09:00 GMT + 1 month = Sat 2027-03-27 09:00Z; Mon 29 Mar is
    # Easter Monday in Ireland -> Tue 2027-03-30 12:00 IST (DST since 28 Mar) = 11:00Z.
    bank = {**IRISH_PAYMENT, "dora_entity_type": "credit_institution"}
    events = {
        "aware_ict_incident": "2027-02-20T08:00:00Z",
        "classified_major": "2027-02-20T09:00:00Z",
        "submitted:eu.dora.art19.initial_notification": "2027-02-20T12:00:00Z",
        "submitted:eu.dora.art19.intermediate_report": "2027-02-27T09:00:00Z",
    }
    final = one(
        report({"entity": bank, "facts": {"incident_classified_major": True}, "events": events}),
        "eu.dora.art19.final_report",
    )
    assert (final["deadline_utc"], final["strict_deadline_utc"]) == ("2027-03-30T11:00:00Z", "2027-03-27T09:00:00Z")
    assert "alt_deadline_utc" not in final  # the end-of-day reading is earlier than the relieved deadline


def test_dora_final_report_runs_from_the_latest_submission() -> None:
    # Updated intermediate 2027-05-03 10:00Z (11:00 IST) is later than the intermediate (2027-04-30):
    # + 1 month = Thu 2027-06-03 11:00 IST = 10:00Z (a working day: no relief).
    events = {
        "aware_ict_incident": "2027-04-28T08:00:00Z",
        "classified_major": "2027-04-28T09:00:00Z",
        "submitted:eu.dora.art19.initial_notification": "2027-04-28T12:00:00Z",
        "submitted:eu.dora.art19.intermediate_report": "2027-04-30T10:00:00Z",
        "regular_activities_recovered": "2027-05-02T10:00:00Z",
        "submitted:eu.dora.art19.updated_intermediate_report": "2027-05-03T10:00:00Z",
    }
    out = report({"entity": IRISH_PAYMENT, "facts": {"incident_classified_major": True}, "events": events})
    assert deadline(out, "eu.dora.art19.final_report") == "2027-06-03T10:00:00Z"


def test_dora_entity_is_out_of_nis2_and_clients_need_the_switch() -> None:
    entity = {**IRISH_PAYMENT, "nis2_class": "essential"}
    events = {
        "aware_significant_incident": "2027-04-06T07:00:00Z",
        "aware_ict_incident": "2027-04-06T07:00:00Z",
        "classified_major": "2027-04-06T08:00:00Z",
    }
    out = report(
        {"entity": entity, "facts": {"significant_incident": True, "incident_classified_major": True}, "events": events}
    )
    assert "lex specialis" in reason(out, "eu.nis2.art23.early_warning")
    assert "impact_on_clients_financial_interests" in reason(out, "eu.dora.art19.clients")


def test_brazil_supplement_pending_then_twenty_working_days() -> None:
    doc = {
        "entity": {"roles": ["controller"]},
        "facts": {"sensitive_data": True},
        "events": {"br_knowledge_personal_data_affected": "2027-04-20T15:00:00-03:00"},
    }
    assert one(report(doc), "br.lgpd.res15.supplement")["deadline_kind"] == "pending_chained"
    assert "information_incomplete" in reason(
        report({**doc, "facts": {"sensitive_data": True, "information_incomplete": False}}), "br.lgpd.res15.supplement"
    )


def test_attorney_general_notices_tied_to_the_consumer_notice() -> None:
    # Before consumers are notified: CA AG (own 15-day period) pending, CT AG no fixed deadline.
    doc = {
        "facts": {"residents_affected": {"CA": 800, "CT": 20}, "breach_of_unencrypted_pi": True},
        "events": {"state_breach_discovered": "2027-02-01T12:00:00-05:00"},
    }
    out = report(doc)
    assert one(out, "us.ca.1798_82.attorney_general")["deadline_kind"] == "pending_chained"
    ct = one(out, "us.ct.36a_701b.attorney_general")
    assert (ct["deadline_kind"], ct["deadline_utc"]) == ("no_fixed_deadline", None)
    # CT backstop = the resident deadline: D0 Feb 1 + 60 = Apr 2 23:59:59 EDT = 2027-04-03 03:59:59Z.
    assert ct["backstop_utc"] == "2027-04-03T03:59:59Z"
    # Consumers notified Sat 2027-02-20 10:00 PST: CA AG = Feb 20 + 15 = Sun Mar 7 23:59:59 PST = 07:59:59Z.
    doc["events"]["consumers_notified"] = "2027-02-20T10:00:00-08:00"
    out = report(doc)
    assert deadline(out, "us.ca.1798_82.attorney_general") == "2027-03-08T07:59:59Z"
    assert one(out, "us.ca.1798_82.attorney_general")["possible_legal_extension"] is True  # ends on a Sunday
    assert one(out, "us.ct.36a_701b.attorney_general")["backstop_utc"] == "2027-02-20T18:00:00Z"


def test_chained_rule_is_not_triggered_when_its_parent_is_excluded() -> None:
    # California: the breach concerns encrypted data with a safe key -> no resident notice, so no AG copy.
    out = report(
        {
            "facts": {"residents_affected": {"CA": 800}, "breach_of_unencrypted_pi": False},
            "events": {
                "state_breach_discovered": "2027-02-01T12:00:00-05:00",
                "consumers_notified": "2027-02-20T10:00:00-08:00",
            },
        }
    )
    assert "breach_of_unencrypted_pi" in reason(out, "us.ca.1798_82.individuals")
    assert reason(out, "us.ca.1798_82.attorney_general").startswith("follows us.ca.1798_82.individuals")
