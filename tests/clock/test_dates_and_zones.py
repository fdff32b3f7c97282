"""Clock conventions on dates: DST on both sides of the Atlantic, local vs UTC dates,
weekends and holidays (business days, DORA relief), months and annual batches.
Every expected instant is computed by hand in the comments."""

from __future__ import annotations

from tests.clock.cli import deadline, one, reason, report

GDPR_CONTROLLER = {"roles": ["controller"], "main_establishment": "FR", "timezone": "Europe/Paris"}


def test_gdpr_72h_across_eu_dst_end_is_real_elapsed_time() -> None:
    # Fri 2027-10-29 10:00 CEST = 08:00Z; EU DST ends Sun 31 Oct. 08:00Z + 72 h = 2027-11-01 08:00Z
    # (09:00 CET local: the wall time moved, the instant did not).
    out = report(
        {
            "entity": GDPR_CONTROLLER,
            "facts": {"personal_data_breach": True},
            "events": {"aware_personal_data_breach": "2027-10-29T10:00:00+02:00"},
        }
    )
    assert deadline(out, "eu.gdpr.art33.supervisory_authority") == "2027-11-01T08:00:00Z"
    assert "DST ignored" in one(out, "eu.gdpr.art33.supervisory_authority")["explanation"]


def test_uk_ico_72h_across_bst_end() -> None:
    # Sat 2027-10-30 23:30 BST = 22:30Z; + 72 h = 2027-11-02 22:30Z (22:30 GMT local).
    out = report(
        {
            "entity": {"jurisdiction": "UK", "roles": ["controller"], "timezone": "Europe/London"},
            "events": {"aware_personal_data_breach": "2027-10-30T23:30:00+01:00"},
        }
    )
    assert deadline(out, "uk.gdpr.art33.ico") == "2027-11-02T22:30:00Z"
    assert "UK GDPR applies instead" in reason(out, "eu.gdpr.art33.supervisory_authority")


def test_hipaa_calendar_days_across_us_dst_end() -> None:
    # Discovery 2027-10-01 09:00 CDT; D0 Oct 1 + 60 = Nov 30; 23:59:59 CST (-6) = 2027-12-01 05:59:59Z.
    out = report(
        {
            "entity": {"hipaa_covered_entity": True, "timezone": "America/Chicago"},
            "facts": {"breach_of_unsecured_phi": True, "total_individuals": 40},
            "events": {"hipaa_breach_discovered": "2027-10-01T09:00:00-05:00"},
        }
    )
    assert deadline(out, "us.hipaa.164_404.individuals") == "2027-12-01T05:59:59Z"


def test_nis2_month_between_us_and_eu_dst_starts() -> None:
    # US DST starts 14 Mar 2027, EU on 28 Mar. Submission 2027-02-20 10:00 CET = 09:00Z -> 2027-03-20 10:00,
    # still CET in Berlin = 09:00Z (a New York clock would already show EDT).
    entity = {"nis2_class": "essential", "member_state": "DE", "nis2_transposed": True, "timezone": "Europe/Berlin"}
    events = {
        "aware_significant_incident": "2027-02-18T09:00:00+01:00",
        "submitted:eu.nis2.art23.incident_notification": "2027-02-20T10:00:00+01:00",
    }
    out = report({"entity": entity, "facts": {"significant_incident": True}, "events": events})
    assert deadline(out, "eu.nis2.art23.final_report") == "2027-03-20T09:00:00Z"
    # Across the EU change: 2027-03-10 10:00 CET (09:00Z) -> 2027-04-10 10:00 CEST = 08:00Z;
    # 1182/71 end of day 2027-04-10 23:59:59 CEST = 21:59:59Z.
    events["submitted:eu.nis2.art23.incident_notification"] = "2027-03-10T10:00:00+01:00"
    final = one(
        report({"entity": entity, "facts": {"significant_incident": True}, "events": events}),
        "eu.nis2.art23.final_report",
    )
    assert (final["deadline_utc"], final["alt_deadline_utc"]) == ("2027-04-10T08:00:00Z", "2027-04-10T21:59:59Z")


def test_month_clamps_to_last_day() -> None:
    # 2027-01-31 10:00 CET (09:00Z) + 1 month -> 31 Feb clamps to Sun 2027-02-28 10:00 CET = 09:00Z.
    entity = {"nis2_class": "important", "member_state": "AT", "timezone": "Europe/Vienna"}
    events = {
        "aware_significant_incident": "2027-01-29T09:00:00+01:00",
        "submitted:eu.nis2.art23.incident_notification": "2027-01-31T10:00:00+01:00",
    }
    out = report({"entity": entity, "events": events})
    assert deadline(out, "eu.nis2.art23.final_report") == "2027-02-28T09:00:00Z"


def test_sec_in_the_three_weeks_between_dst_starts() -> None:
    # Mon 2027-03-22 10:00 EDT; business days Tue 23, Wed 24, Thu 25, Fri 26 -> 17:30 EDT = 21:30Z.
    out = report(
        {
            "entity": {"sec_registrant_filing_8k": True},
            "events": {"materiality_determined": "2027-03-22T10:00:00-04:00"},
        }
    )
    assert deadline(out, "us.sec.8k_item105.initial") == "2027-03-26T21:30:00Z"


def test_texas_uses_the_chicago_date_not_the_utc_date() -> None:
    # 2027-03-01T03:30Z is Sun 2027-02-28 21:30 CST: D0 Feb 28 + 30 = Mar 30; 23:59:59 CDT = 2027-03-31 04:59:59Z.
    # (The UTC date, Mar 1, would wrongly give Mar 31.)
    out = report(
        {"facts": {"residents_affected": {"TX": 300}}, "events": {"state_breach_determined": "2027-03-01T03:30:00Z"}}
    )
    assert deadline(out, "us.tx.521_053.attorney_general") == "2027-03-31T04:59:59Z"
    assert one(out, "us.tx.521_053.attorney_general")["deadline_date_local"] == "2027-03-30"


def test_singapore_three_days_from_the_singapore_date() -> None:
    # 2027-06-01T17:30Z = 2027-06-02 01:30 SGT: D0 Jun 2 + 3 = Jun 5 23:59:59 SGT = 15:59:59Z.
    out = report(
        {"facts": {"likely_significant_harm": True}, "events": {"sg_assessed_notifiable": "2027-06-01T17:30:00Z"}}
    )
    assert deadline(out, "sg.pdpa.26d.pdpc") == "2027-06-05T15:59:59Z"


def test_australian_assessment_in_the_entity_zone_or_sydney() -> None:
    # Perth entity: 2027-08-02T20:00Z = Aug 3 04:00 AWST; D0 Aug 3 + 30 = Sep 2 23:59:59 AWST = 15:59:59Z.
    perth = report(
        {
            "entity": {"au_app_entity": True, "timezone": "Australia/Perth"},
            "events": {"au_suspicion": "2027-08-02T20:00:00Z"},
        }
    )
    assert deadline(perth, "au.privacy.26wh.assessment") == "2027-09-02T15:59:59Z"
    # Non-Australian home zone: Sydney, Aug 3 06:00 AEST -> Sep 2 23:59:59 AEST = 13:59:59Z.
    london = report(
        {
            "entity": {"au_app_entity": True, "timezone": "Europe/London"},
            "events": {"au_suspicion": "2027-08-02T20:00:00Z"},
        }
    )
    assert deadline(london, "au.privacy.26wh.assessment") == "2027-09-02T13:59:59Z"


def test_hipaa_annual_log_year_is_the_local_year() -> None:
    # 2028-01-01T03:00Z is 2027-12-31 19:00 PST: the 2027 log; 31 Dec 2027 + 60 days = 29 Feb 2028 (leap),
    # 23:59:59 PST = 2028-03-01 07:59:59Z.
    out = report(
        {
            "entity": {"hipaa_covered_entity": True, "timezone": "America/Los_Angeles"},
            "facts": {"breach_of_unsecured_phi": True, "total_individuals": 120},
            "events": {"hipaa_breach_discovered": "2028-01-01T03:00:00Z"},
        }
    )
    assert deadline(out, "us.hipaa.164_408.hhs_under_500_annual") == "2028-03-01T07:59:59Z"


def test_sec_saturday_trigger_and_independence_day_observed() -> None:
    # Sat 2027-07-03: Mon 5 Jul is a federal holiday (observed); Tue 6 (1), Wed 7 (2), Thu 8 (3), Fri 9 (4)
    # -> 17:30 EDT = 21:30Z.
    out = report(
        {
            "entity": {"sec_registrant_filing_8k": True},
            "events": {"materiality_determined": "2027-07-03T10:00:00-04:00"},
        }
    )
    assert deadline(out, "us.sec.8k_item105.initial") == "2027-07-09T21:30:00Z"


def test_sec_thanksgiving_and_christmas_observed() -> None:
    # Wed 2027-11-24: Thu 25 Thanksgiving; Fri 26 (1), Mon 29 (2), Tue 30 (3), Wed Dec 1 (4); 17:30 EST = 22:30Z.
    out = report(
        {
            "entity": {"sec_registrant_filing_8k": True},
            "events": {"materiality_determined": "2027-11-24T09:00:00-05:00"},
        }
    )
    assert deadline(out, "us.sec.8k_item105.initial") == "2027-12-01T22:30:00Z"
    # Tue 2027-12-21: Wed 22 (1), Thu 23 (2), Fri 24 Christmas observed, Mon 27 (3), Tue 28 (4).
    out = report(
        {
            "entity": {"sec_registrant_filing_8k": True},
            "events": {"materiality_determined": "2027-12-21T09:00:00-05:00"},
        }
    )
    assert deadline(out, "us.sec.8k_item105.initial") == "2027-12-28T22:30:00Z"


def test_brazil_carnival_is_a_working_day() -> None:
    # Mon 2027-02-08 (Carnival Monday, ponto facultativo = working day): Tue 9 (1), Wed 10 (2), Thu 11 (3);
    # 23:59:59 BRT (-3) = 2027-02-12 02:59:59Z.
    out = report(
        {
            "entity": {"roles": ["controller"]},
            "facts": {"financial_data": True},
            "events": {"br_knowledge_personal_data_affected": "2027-02-08T10:00:00-03:00"},
        }
    )
    assert deadline(out, "br.lgpd.res15.anpd") == "2027-02-12T02:59:59Z"


def test_vermont_business_days_skip_town_meeting_day_and_consumer_notice_can_come_first() -> None:
    # Mon 2027-02-22: Feb 23-26 (4), Mar 1 (5), Mar 2 Town Meeting Day skipped, Mar 3-5 (8), Mar 8-12 (13),
    # Mon Mar 15 (14); 23:59:59 EDT = 2027-03-16 03:59:59Z.
    base = {
        "facts": {"residents_affected": {"VT": 10}},
        "events": {"state_breach_discovered": "2027-02-22T10:00:00-05:00"},
    }
    assert deadline(report(base), "us.vt.2435.ag_preliminary") == "2027-03-16T03:59:59Z"
    base["events"]["consumers_notified"] = "2027-03-05T15:00:00Z"
    assert deadline(report(base), "us.vt.2435.ag_preliminary") == "2027-03-05T15:00:00Z"


def test_japan_final_report_day_one_counting_and_roll_forward_alternative() -> None:
    # Knew 2027-12-10 10:00 JST. Day 1 = Dec 10 -> day 30 = 2028-01-08 23:59:59 JST = 14:59:59Z.
    # Alternative: D0 + 30 = Sun 2028-01-09 -> Mon 10 Coming of Age Day -> Tue 2028-01-11 = 14:59:59Z.
    doc = {
        "facts": {"individuals_affected": 1500},
        "events": {"jp_knew_reportable_situation": "2027-12-10T10:00:00+09:00"},
    }
    final = one(report(doc), "jp.appi.26.final")
    assert (final["deadline_utc"], final["alt_deadline_utc"]) == ("2028-01-08T14:59:59Z", "2028-01-11T14:59:59Z")
    # Unlawful purpose: 60 days -> Dec 10 + 59 = 2028-02-07; alt Dec 10 + 60 = Tue 2028-02-08.
    doc["facts"]["possibly_unlawful_purpose"] = True
    final = one(report(doc), "jp.appi.26.final")
    assert (final["deadline_utc"], final["alt_deadline_utc"]) == ("2028-02-07T14:59:59Z", "2028-02-08T14:59:59Z")
