"""Rows held in doubt after a crash, on the console's wave page and over the API (SQLite and PostgreSQL): the
page lists the held batches (rows, when their request left, how many SendGrid's events confirmed since) and the
held and skipped outcomes of each run; the commander and comms get a form that resends or skips them with a
reason (CSRF like every console form, through the action `tocsin wave resolve` calls); others see why not."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from sqlalchemy import select

from tests.helpers import ok
from tests.wave.conftest import declare_incident, draft_for, people, write_csv
from tests.wave.test_deliveries import event
from tests.wave.test_in_doubt import DiesMidRequest, crashed_wave
from tests.wave.test_wave import run, statuses
from tests.web.console_helpers import Console, csrf_token
from tocsin.db.engine import session_scope
from tocsin.wave.deliveries import ingest_sendgrid_events
from tocsin.wave.status import DELIVERIES

FLASH = re.compile(r'class="flash[^"]*"[^>]*>(.*?)</', re.S)


def held_incident(tmp_path: Path, count: int = 5) -> tuple[int, int]:
    """An incident whose wave died with its only request in flight, then rerun: `count` rows held."""
    incident = declare_incident()
    draft = draft_for(incident)
    path = write_csv(tmp_path / "r.csv", people(count))
    crashed_wave(incident, draft, path)
    assert run(incident, [draft], path, DiesMidRequest()).held == count  # the rerun sends nothing: all held
    return incident, draft


def confirm_one(incident: int) -> None:
    """SendGrid's `processed` event for one held row: it was taken, so it is no longer held."""
    with session_scope() as session:
        email, message_id = session.execute(
            select(DELIVERIES.c.email, DELIVERIES.c.message_id).order_by(DELIVERIES.c.id).limit(1)
        ).one()
        body = json.dumps([event("processed", email, message_id, 3000)]).encode()
        assert ingest_sendgrid_events(session, body, {}).settled == 1


def test_held_rows_are_shown_with_a_form_for_those_who_decide(console: Console, tmp_path: Path) -> None:
    incident, _draft = held_incident(tmp_path)
    confirm_one(incident)
    carl = console.as_person("carl")  # comms
    page = html.unescape(carl.get(f"/incidents/{incident}/waves").text)
    assert '<h2 id="in-doubt-h">4 rows held in doubt</h2>' in page
    assert "posted and never answered" in page and "(1 so far)" in page
    cells = r"<td>(\d+)</td>\s*<td>(.*?)</td>\s*<td>(\d+)</td><td>(\d+)</td>"
    row = re.search(r'<tr><td><a href="#wave-1-h">1</a></td>' + cells, page)
    assert row and row.group(3, 4) == ("4", "1") and '<time datetime="' in row.group(2)  # when the request left
    assert f'<form method="post" action="/incidents/{incident}/waves/in-doubt"' in page
    assert 'name="decision" value="resend"' in page and 'name="decision" value="skip"' in page
    assert 'name="csrf_token" value="' in page.split('id="in-doubt-h"')[1]
    # the rerun's outcome: held rows have their own segment and row
    counts = dict(re.findall(r'aria-hidden="true"></span> ([a-z (),]+?)</th>\s*<td>([0-9,]+)</td>', page))
    assert counts["held in doubt (waiting for a decision)"] == "5" and "skipped (decided after a crash)" not in counts
    assert "resent in doubt" not in page

    lena = console.as_person("lena")  # legal: may not decide
    hers = html.unescape(lena.get(f"/incidents/{incident}/waves").text)
    assert "4 rows held in doubt" in hers
    assert f"You cannot decide about these rows: lena is not commander or comms on INC-{incident}." in hers
    assert "/waves/in-doubt" not in hers  # no form


def test_the_form_decides_through_the_action_and_says_what_was_done(console: Console, tmp_path: Path) -> None:
    incident, draft = held_incident(tmp_path)
    path = f"/incidents/{incident}/waves/in-doubt"
    carl = console.as_person("carl")

    forged = carl.post(path, data={"decision": "skip", "reason": "x"}, follow_redirects=False)  # no CSRF token
    assert forged.status_code == 403 and statuses(incident) == {draft: {"queued": 5}}
    lena = console.as_person("lena")
    refused = console.post_form(lena, path, {"decision": "skip", "reason": "legal thinks so"})
    assert refused.status_code == 403 and statuses(incident) == {draft: {"queued": 5}}
    timeline = ok("show", str(incident), "--json").json()["timeline"]
    assert any(e["action"] == "notice.in_doubt_resolved_refused" and e["actor"] == "lena" for e in timeline)

    blank = console.post_form(carl, path, {"decision": "skip", "reason": "  "})
    assert blank.status_code == 303 and blank.headers["location"] == f"/incidents/{incident}/waves#in-doubt"
    said = html.unescape(carl.get(f"/incidents/{incident}/waves").text)
    assert "reason: say why: the decision is kept on the timeline" in said and "--reason" not in said
    unknown = console.post_form(carl, path, {"decision": "maybe", "reason": "x"})
    assert unknown.status_code == 303 and statuses(incident) == {draft: {"queued": 5}}

    token = csrf_token(carl, f"/incidents/{incident}/waves")
    done = carl.post(path, data={"decision": "skip", "reason": "Activity shows it taken", "csrf_token": token},
                     follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    after = html.unescape(carl.get(f"/incidents/{incident}/waves").text)
    assert "5 held rows marked skipped: no run sends them again." in after
    assert "rows held in doubt</h2>" not in after and statuses(incident) == {draft: {"skipped": 5}}
    decided = [e for e in ok("show", str(incident), "--json").json()["timeline"]
               if e["action"] == "notice.in_doubt_resolved"]  # fmt: skip
    by = [(e["actor"], e["payload"]["decision"], e["payload"]["via"]) for e in decided]
    assert by == [("carl", "skip", "console")]


def test_the_api_names_its_own_field_when_the_reason_is_empty(console: Console, tmp_path: Path) -> None:
    incident, draft = held_incident(tmp_path, count=2)
    path = f"/api/incidents/{incident}/waves/in-doubt"
    answer = console.api.post(path, "carl", json={"decision": "skip", "reason": " "})
    assert answer.status_code == 422
    assert answer.json() == {"error": "reason: say why: the decision is kept on the timeline"}
    listed = console.api.get(path, "carl").json()
    assert listed["held"] == 2 and statuses(incident) == {draft: {"queued": 2}}
