"""The console's incident page: every obligation with its citation, explanation and live countdown, recording
a submission, open escalations with their ack button, drafts, the waves link, sentiment alerts and the
timeline; on SQLite and PostgreSQL, through the real services."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import yaml

from tests.web.conftest import declare, timeline
from tests.web.console_helpers import Console
from tests.web.test_approvals_and_acks import draft_in_review, start_page

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-breach.yaml"
GDPR = "eu.gdpr.art33.supervisory_authority"


def breach(console: Console, **fields: object) -> int:
    """A declared breach whose facts trigger obligations (aware two hours ago), with lena as legal."""
    from tocsin.core.clocks import iso_utc, utcnow

    aware = iso_utc(utcnow() - timedelta(hours=2)) or ""
    facts = yaml.safe_load(SAMPLE.read_text().replace("AWARE_AT", aware))
    ident = declare(console.api, aware_at=aware, facts=facts, **fields)["id"]
    console.api.post(f"/api/incidents/{ident}/roles", json={"role": "legal", "person": "lena"})
    return ident


def test_every_obligation_is_shown_with_citation_explanation_and_countdown(console: Console) -> None:
    ident = breach(console)
    clock = console.api.get(f"/api/incidents/{ident}/clock").json()["obligations"]
    assert len(clock) >= 2
    page = console.as_person("alice").get(f"/incidents/{ident}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    rows = re.findall(r'<tr class="urgency-[a-z-]+">.*?</tr>', page.text, re.S)
    assert len(rows) == len(clock)  # one row per obligation, coloured by its standing
    for row, expected in zip(rows, clock, strict=True):
        shown = html.unescape(row.replace("<wbr>", ""))  # the rule id may wrap after its dots, never mid-word
        assert expected["rule"] in shown and expected["citation"] in shown
        assert all(f"<li>{clause}</li>" in shown for clause in expected["explanation"].split("; "))  # one per line
        words = {"on-track": "on track", "due-soon": "due soon", "overdue": "overdue", "open": "without undue delay"}
        assert words.get(expected["standing"], expected["standing"]) in shown  # the standing in words, not colour only
        if expected["deadline_utc"]:
            assert f'data-deadline="{expected["deadline_utc"]}"' in row  # ticks client-side; text left server-side
            assert f'<time datetime="{expected["deadline_utc"]}" title="' in row and " UTC" in row  # UTC on hover
            assert re.search(r"\d+ (d|h|min)[^<]* left|overdue by", shown)
    assert "Customer DB exposed" in text and "lena" in text and "commander" in text  # facts, people and roles
    assert f'href="/incidents/{ident}/waves"' in page.text


def test_a_submission_recorded_on_the_page_stops_that_countdown_and_lands_on_the_timeline(console: Console) -> None:
    ident = breach(console)
    alice = console.as_person("alice")
    form = f"/incidents/{ident}/obligations/{GDPR}/submit"
    assert f'action="{form}"' in alice.get(f"/incidents/{ident}").text

    no_csrf = alice.post(form, data={"note": "portal receipt 42"}, follow_redirects=False)
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    assert "obligation.submitted" not in [e["action"] for e in timeline(console.api, ident)]

    done = console.post_form(alice, form, {"note": "portal receipt 42", "at": ""})
    assert done.status_code == 303 and done.headers["location"] == f"/incidents/{ident}#clock"
    clock = console.api.get(f"/api/incidents/{ident}/clock").json()["obligations"]
    standing = {r["rule"]: r["standing"] for r in clock}
    assert standing[GDPR] == "submitted"
    event = next(e for e in timeline(console.api, ident) if e["action"] == "obligation.submitted")
    assert event["actor"] == "alice" and event["payload"]["note"] == "portal receipt 42"

    page = alice.get(f"/incidents/{ident}").text
    assert "Submission to CNIL (lead SA" in page and "(Regulation (EU) 2016/679, Art. 33(1)) recorded." in page
    row = next(r for r in re.findall(r'<tr class="urgency-[a-z-]+">.*?</tr>', page, re.S) if GDPR in r)
    assert 'class="urgency-submitted"' in row and "submitted" in row and f'action="{form}"' not in row
    assert "obligation.submitted" in page and "portal receipt 42" in html.unescape(page)  # on the timeline

    not_owed = console.post_form(alice, f"/incidents/{ident}/obligations/us.nowhere.rule/submit", {"note": ""})
    assert not_owed.status_code == 303
    assert "owes no &#39;us.nowhere.rule&#39;" in alice.get(f"/incidents/{ident}").text


def test_a_person_without_a_role_cannot_record_a_submission_while_legal_can(console: Console) -> None:
    ident = breach(console)  # alice commands, lena holds legal, carl holds nothing
    form = f"/incidents/{ident}/obligations/{GDPR}/submit"
    carl = console.as_person("carl")
    carl_view = carl.get(f"/incidents/{ident}").text
    assert f'action="{form}"' not in carl_view  # no form for carl ...
    assert f"You cannot record submissions on INC-{ident}: carl is not commander, legal or dpo" in carl_view
    assert "commander, legal or DPO</span>" in carl_view and "Change the status" not in carl_view

    crafted = console.post_form(carl, form, {"note": "portal receipt 7"})  # ... and a crafted post is refused
    assert crafted.status_code == 403 and "policy clock.submission" in crafted.text
    standing = {
        r["rule"]: r["standing"] for r in console.api.get(f"/api/incidents/{ident}/clock").json()["obligations"]
    }
    assert standing[GDPR] != "submitted"
    refused = [e for e in timeline(console.api, ident) if e["action"] == "clock.submission_refused"]
    assert [(e["actor"], e["payload"]["via"], e["payload"]["action"]) for e in refused] == [
        ("carl", "console", "clock.submission")
    ]

    lena = console.as_person("lena")  # legal
    assert f'action="{form}"' in lena.get(f"/incidents/{ident}").text
    done = console.post_form(lena, form, {"note": "portal receipt 8"})
    assert done.status_code == 303 and done.headers["location"] == f"/incidents/{ident}#clock"
    standing = {
        r["rule"]: r["standing"] for r in console.api.get(f"/api/incidents/{ident}/clock").json()["obligations"]
    }
    assert standing[GDPR] == "submitted"
    submitted = next(e for e in timeline(console.api, ident) if e["action"] == "obligation.submitted")
    assert (submitted["actor"], submitted["payload"]["via"]) == ("lena", "console")
    page = lena.get(f"/incidents/{ident}").text
    row = re.search(r'<tr class="event-clock-submission_refused tone-alarming">(.*?)</tr>', page, re.S)
    assert row and "Recording a submission refused: carl is not commander, legal or dpo" in html.unescape(row.group(1))


def test_open_escalations_are_acknowledged_from_the_page_by_those_paged(console: Console) -> None:
    ident = breach(console)
    page_id = start_page(ident)  # pages legal (lena)
    lena, carl = console.as_person("lena"), console.as_person("carl")
    assert f"Acknowledge E-{page_id}" in lena.get(f"/incidents/{ident}").text
    carl_view = carl.get(f"/incidents/{ident}").text
    assert f"E-{page_id}: Approve the notice" in carl_view and f"Acknowledge E-{page_id}" not in carl_view

    crafted = console.post_form(carl, f"/escalations/{page_id}/ack", {})  # the action decides, not the page
    assert (
        crafted.status_code == 403 and "carl was not paged" in crafted.text and "policy escalation.ack" in crafted.text
    )
    assert [e["escalation"] for e in console.api.get(f"/api/incidents/{ident}/escalations").json()] == [page_id]
    refused = [e for e in timeline(console.api, ident) if e["action"] == "escalation.ack_refused"]
    assert [(e["actor"], e["payload"]["escalation"], e["payload"]["via"]) for e in refused] == [
        ("carl", page_id, "console")
    ]
    assert f"E-{page_id}: acknowledgement refused: carl was not paged" in html.unescape(
        carl.get(f"/incidents/{ident}").text
    )

    acked = console.post_form(lena, f"/escalations/{page_id}/ack", {})
    assert acked.status_code == 303 and acked.headers["location"] == f"/incidents/{ident}#escalations"
    after = lena.get(f"/incidents/{ident}").text
    assert "acknowledged: the chain stops" in after and "No open escalations." in after
    assert ("lena", "escalation.acknowledged") in [(e["actor"], e["action"]) for e in timeline(console.api, ident)]


def test_drafts_sentiment_chart_and_timeline_newest_first(console: Console) -> None:
    from tocsin.db.engine import session_scope
    from tocsin.social.alerts import attach_alert

    ident = breach(console)
    made = draft_in_review(ident)
    alert = {
        "kind": "negativity",
        "window_start": "2026-11-20T09:00:00Z",
        "detected_at": "2026-11-20T09:40:00Z",
        "count": 48,
        "baseline": 6.5,
        "score": 7.2,
        "negative_share": 0.61,
        "baseline_share": 0.18,
        "mentions": 80,
        "sample_ids": ["m1"],
    }
    with session_scope() as session:
        attach_alert(session, ident, alert, source="mentions.jsonl")
    page = console.as_person("carl").get(f"/incidents/{ident}").text
    assert f'<a href="/drafts/{made["id"]}">D-{made["id"]}</a>' in page and "in review" in page
    chart = re.search(r"<svg .*?</svg>", page, re.S)
    assert chart and 'role="img"' in chart.group(0) and "negativity spike" in chart.group(0)
    assert '<th scope="row">negativity</th>' in page and "61 %" in page  # the same figures as a table
    seqs = [int(s) for s in re.findall(r'<tr class="event-[a-z_ -]+">\s*<th scope="row">(\d+)</th>', page)]
    assert seqs == sorted(seqs, reverse=True) and seqs[0] == len(timeline(console.api, ident))


def test_the_page_needs_a_login_and_an_existing_incident(console: Console) -> None:
    ident = breach(console)
    anonymous = console.anonymous().get(f"/incidents/{ident}", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == f"/login?next=/incidents/{ident}"
    missing = console.as_person("alice").get("/incidents/999")
    assert missing.status_code == 404 and "no incident INC-999" in missing.text


def test_the_timeline_is_summarised_and_the_facts_are_readable(console: Console) -> None:
    from tests.web.test_approvals_and_acks import draft_in_review as drafted

    ident = breach(console)
    made = drafted(ident)
    lena = console.as_person("lena")
    console.post_form(lena, f"/drafts/{made['id']}/approve", {"sha256": made["sha256"]})
    for _ in range(8):  # enough events (two a draft) for older ones to wait behind a <details>
        drafted(ident)
    page = lena.get(f"/incidents/{ident}").text
    timeline_part = page[page.index('id="timeline"') :]
    assert not re.search(r"[0-9a-f]{64}", timeline_part)  # hashes shortened ...
    approved = re.search(r'<tr class="event-draft-approved tone-decisive">(.*?)</tr>', timeline_part, re.S)
    assert approved and f"D-{made['id']} revision 1 approved (sha256 {made['sha256'][:12]})" in approved.group(1)
    assert "<td>lena</td>" in approved.group(1)  # ... the decisive event highlighted, with its action's name
    newest = re.findall(r'<tr class="event-[a-z_ -]+">', timeline_part.split("older-events")[0])
    assert len(newest) == 20 and '<details class="older-events"><summary>' in timeline_part
    cut = [m for m in re.findall(r'<summary title="([^"]*)">([^<]*)</summary>', timeline_part) if m[1].endswith("…")]
    for full, summary in cut:  # a cut summary ends with an ellipsis and keeps the whole text in its title
        assert len(summary) <= 120 and html.unescape(full).startswith(html.unescape(summary)[:-1].rstrip(" ,;:·"))

    facts_part = page[page.index('id="facts"') : page.index('id="sentiment"')]
    aware = console.api.get(f"/api/incidents/{ident}").json()["aware_at"]
    assert re.search(rf'<dt>aware personal data breach</dt><dd><time datetime="{aware}"', facts_part)  # local
    assert '<li><span class="key">FR</span> 41,200</li>' in facts_part and "{" not in facts_part  # maps as lists


def test_event_summaries_lead_with_what_matters_and_cut_with_an_ellipsis() -> None:
    from tocsin.web.console.event_text import describe

    sha = "ab" * 32
    approved = describe(
        "draft.approved", {"draft": "D-3", "revision": 2, "sha256": sha, "template": "t", "comment": None}
    )
    assert approved.summary == f"D-3 revision 2 approved (sha256 {sha[:12]})" and approved.tone == "decisive"
    assert ("sha256", sha[:12]) in approved.pairs and not approved.cut
    payload = {"event": f"submitted:{GDPR}", "at": "2026-11-22T19:36:09Z", "note": "n 1"}
    submitted = describe("obligation.submitted", payload, "Europe/Paris")
    assert submitted.summary == f"{GDPR} submitted · note: n 1"
    assert ("at", "2026-11-22 20:36:09 CET") in submitted.pairs  # instants in the viewer's zone
    long = describe("obligation.changed", {"rule": GDPR, "explanation": "word " * 80, "facts": {"x": 1}})
    assert long.cut and long.summary.endswith("…") and len(long.summary) <= 120 and "word" in long.full
    assert all(name != "facts" for name, _ in long.pairs)  # the facts document stays out, as in event_summary
    refused = describe("draft.approval_refused", {"draft": "D-1", "attempted": "approve", "reason": "no"})
    assert refused.tone == "alarming" and refused.summary == "D-1: approve refused: no"
