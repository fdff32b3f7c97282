"""The console's notice-wave page: live counts while a wave runs (read between its chunks), the outcome of
every row with a progress bar once it has finished, and the deliveries of each draft; the same view as
`tocsin waves --json`."""

from __future__ import annotations

import html
import re
from pathlib import Path

from tests.helpers import ok
from tests.wave.conftest import declare_incident, draft_for, people, write_csv
from tests.web.console_helpers import Console


def test_a_wave_is_followed_while_it_runs_and_counted_when_it_ends(console: Console, tmp_path: Path) -> None:
    from tocsin.db.engine import session_scope
    from tocsin.messages.channels import email_channel
    from tocsin.wave.run import run_wave

    incident = declare_incident()
    draft = draft_for(incident)
    carl = console.as_person("carl")
    empty = carl.get(f"/incidents/{incident}/waves").text
    assert "No notice wave yet" in empty and 'data-running="false"' in empty

    rows = [*people(5), {"email": "broken", "name": "X", "first_name": "X", "locale": "en"}, *people(1, start=9)]
    source = write_csv(tmp_path / "recipients.csv", rows)
    ok("suppress", "add", "person9@example.com", "--reason", "opt-out", "--as", "lena")  # legal on the incident
    seen_running: list[str] = []

    def look(_report: object) -> None:  # called by the wave after each committed chunk
        if not seen_running:
            seen_running.append(carl.get(f"/incidents/{incident}/waves").text)

    with session_scope() as session:
        report = run_wave(
            session, incident, [draft], source, channel=email_channel(), actor="carl", chunk_size=2, progress=look
        )
    assert (report.rows, report.sent, report.invalid, report.suppressed) == (7, 5, 1, 1)

    running = seen_running[0]
    assert 'data-running="true"' in running and "A wave is running" in running
    assert re.search(r"Sending: [0-9,]+ accepted by the provider, [0-9,]+ in flight, 0 failed so far", running)
    assert '<script src="/static/waves.js" defer></script>' in running  # the poll; the Refresh link without JS

    done = carl.get(f"/incidents/{incident}/waves")
    page = html.unescape(done.text)
    assert 'data-running="false"' in page and "A wave is running" not in page
    assert "Wave 1: " in page and ">finished</span>" in page and "recipients.csv" in page
    assert "Handled 7 of 7 rows (100 %): 5 sent, 1 suppressed (opted out, bounced), 1 invalid rows" in page
    finished = page[page.index("Wave 1: ") :]
    assert "<progress" not in finished.split("Deliveries by draft")[0]  # one bar once it has ended: the outcomes
    bar = re.search(r'<div class="outcome-bar" role="img" aria-labelledby="bar-1-label">(.*?)</div>', page, re.S)
    assert bar and 'id="bar-1-label"' in page
    segments = re.findall(r'class="seg seg-([a-z_]+)" style="width: ([0-9.]+)%" title="([^"]+)">([^<]*)<', bar.group(1))
    assert [(o, w, label) for o, w, _, label in segments] == [
        ("sent", "71.43", "sent 5"),  # a text label on every segment wide enough for one, a title on all
        ("suppressed", "14.29", "suppressed 1"),
        ("invalid", "14.29", "invalid rows 1"),
    ]
    counts = dict(re.findall(r'aria-hidden="true"></span> ([a-z (),]+?)</th>\s*<td>([0-9,]+)</td>', page))
    assert counts == {
        "sent": "5",
        "already sent earlier": "0",
        "suppressed (opted out, bounced)": "1",
        "invalid rows": "1",
        "failed": "0",
    }
    deliveries = re.search(rf'<a href="/drafts/{draft}">D-{draft}</a></th>(.*?)</tr>', page, re.S)
    assert deliveries and re.findall(r"<td>([0-9,]+)</td>", deliveries.group(1)) == ["5", "5"]  # accepted, total

    cli = ok("waves", str(incident), "--json").json()
    assert cli["waves"][0]["progress"]["sent"] == 5 and cli["deliveries"] == {str(draft): {"accepted": 5}}
    assert f'href="/incidents/{incident}/waves">Notice waves</a>:\n1 run' in carl.get(f"/incidents/{incident}").text
    review = html.unescape(carl.get(f"/drafts/{draft}").text)  # the draft says where it went
    link = f'<a href="/incidents/{incident}/waves#wave-1-h">notice wave 1</a>'
    ended = r'<time datetime="[^"]+Z"[^>]*>[^<]+</time>'
    assert re.search(rf"<strong>Sent</strong> in\s*{link}, ended {ended}: 5 sent\.", review)


def test_the_wave_page_needs_a_login_and_an_incident(console: Console) -> None:
    anonymous = console.anonymous().get("/incidents/1/waves", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/incidents/1/waves"
    assert console.as_person("alice").get("/incidents/42/waves").status_code == 404
