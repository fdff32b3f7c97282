"""Console pages for incidents: list, declare, launch a playbook, change status; who may launch and close
(the page, the JSON API, a crafted POST and the CLI give the same answer), and times in the viewer's zone."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx

from tests.helpers import run_cli
from tests.web.conftest import declare, timeline
from tests.web.console_helpers import Console, csrf_token

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-breach.yaml"


def set_zone(handle: str, zone: str) -> None:
    from tocsin.db.engine import session_scope
    from tocsin.people.directory import upsert_person

    with session_scope() as session:
        upsert_person(session, handle, timezone=zone)


def sample_facts(hours_ago: float) -> str:
    from tocsin.core.clocks import iso_utc, utcnow

    return SAMPLE.read_text().replace("AWARE_AT", iso_utc(utcnow() - timedelta(hours=hours_ago)) or "")


def actions(console: Console, incident: int) -> list[tuple[str, str]]:
    return [(e["actor"], e["action"]) for e in timeline(console.api, incident)]


def runs(incident: int) -> list[str]:
    from sqlmodel import select
    from tocsin.models.playbook_run import PlaybookRun

    from tocsin.db.engine import session_scope

    with session_scope() as session:
        return [r.playbook for r in session.exec(select(PlaybookRun).where(PlaybookRun.incident_id == incident))]


def test_declare_form_creates_the_incident_with_times_read_in_the_viewers_zone(console: Console) -> None:
    set_zone("alice", "Europe/Paris")
    alice = console.as_person("alice")
    form = alice.get("/incidents/new")
    assert form.status_code == 200 and '<form method="post" action="/incidents"' in form.text
    assert '<label for="title">' in form.text and "Europe/Paris" in form.text
    data = {"title": "Customer DB exposed", "kind": "breach", "severity": "SEV1", "aware_at": "2026-11-20T10:00"}
    response = console.post_form(alice, "/incidents", data)
    assert response.status_code == 303
    created = console.api.get("/api/incidents").json()
    assert len(created) == 1 and response.headers["location"] == f"/incidents/{created[0]['id']}"
    assert created[0]["aware_at"] == "2026-11-20T09:00:00Z"  # 10:00 in Paris
    assert created[0]["commander"] == "alice" and created[0]["severity"] == "SEV1"
    assert ("alice", "incident.declared") in actions(console, created[0]["id"])
    listed = alice.get("/incidents").text
    assert "INC-1 declared." in listed and "Customer DB exposed" in listed


def test_declare_form_refuses_bad_input_keeps_what_was_typed_and_writes_nothing(console: Console) -> None:
    alice = console.as_person("alice")
    for data, message in (
        ({"title": "", "severity": "SEV1"}, "title is empty"),
        ({"title": "Leak", "severity": "SEV9"}, "unknown severity"),
        ({"title": "Leak <b>bold</b>", "facts": "entity: [unclosed"}, "facts: not valid YAML"),
        ({"title": "Leak", "aware_at": "2999-01-01T00:00"}, "in the future"),
        ({"title": "Leak", "playbook": "../../etc/passwd.yaml"}, "no built-in playbook"),
        ({"title": "Leak", "commander": "nobody"}, "no person &#39;nobody&#39; in the directory"),
    ):
        response = console.post_form(alice, "/incidents", data)
        assert response.status_code == 422, response.text
        assert message in response.text
        if "<b>" in data["title"]:
            assert "Leak &lt;b&gt;bold&lt;/b&gt;" in response.text  # what was typed, escaped
    assert console.api.get("/api/incidents").json() == []


def test_the_list_shows_the_next_deadline_coloured_by_urgency_with_utc_on_hover(console: Console) -> None:
    set_zone("lena", "America/New_York")
    alice = console.as_person("alice")
    response = console.post_form(
        alice, "/incidents", {"title": "Shop breach", "severity": "SEV1", "facts": sample_facts(hours_ago=60)}
    )
    assert response.status_code == 303, response.text
    incident = int(response.headers["location"].rsplit("/", 1)[1])
    clock = console.api.get(f"/api/incidents/{incident}/clock").json()["obligations"]
    earliest = min((o for o in clock if o["seconds_left"] is not None), key=lambda o: o["seconds_left"])
    page = console.as_person("lena").get("/incidents").text
    row = page[page.index(f'<a href="/incidents/{incident}">INC-{incident}') - 200 :]
    row_start = page[: page.index(f"INC-{incident}")].rsplit("<tr", 1)[1]
    urgency = re.match(r' class="(urgency-[a-z-]+)', row_start)
    expected = {"due-soon": "urgency-due-soon", "overdue": "urgency-overdue", "on-track": "urgency-on-track"}
    assert urgency is not None and urgency.group(1) == expected[earliest["standing"]]
    utc = earliest["deadline_utc"]
    hover = utc.replace("T", " ").replace("Z", " UTC")
    assert f'<time datetime="{utc}" title="{hover}">' in row
    assert re.search(r"\d\d:\d\d E[SD]T</time>", row)  # lena reads New York time
    assert f'data-deadline="{utc}"' in row and ("left" in row or "overdue by" in row)
    assert earliest["standing"].replace("-", " ") in row


def test_the_browser_zone_is_used_when_the_person_has_none(console: Console) -> None:
    declare(console.api)
    bob = console.as_person("bob")
    bob.cookies.set("tz", "Asia/Tokyo")
    assert " JST</time>" in bob.get("/incidents").text
    bob.cookies.set("tz", "Not/AZone")
    assert " UTC</time>" in bob.get("/incidents").text  # TOCSIN_TIMEZONE of the tests


def test_only_the_commander_or_an_admin_launches_by_page_api_crafted_post_or_cli(console: Console) -> None:
    incident = declare(console.api, commander="alice")["id"]
    bob = console.as_person("bob")
    page = bob.get(f"/incidents/{incident}/launch?playbook=data-breach")
    assert page.status_code == 200 and "Only the commander of INC-" in page.text
    assert f"You cannot launch a playbook here: bob is not commander or an admin on INC-{incident}" in page.text
    assert 'name="input.nature_of_breach"' in page.text
    refused = console.post_form(bob, f"/incidents/{incident}/launch", {"playbook": "data-breach"})
    assert refused.status_code == 403
    assert f"bob is not commander or an admin on INC-{incident}" in refused.text
    assert "policy playbook.launch" in refused.text
    api = console.api.post(f"/api/incidents/{incident}/playbooks", "bob", json={"playbook": "social-crisis"})
    assert api.status_code == 403 and "policy playbook.launch" in api.json()["error"]
    crafted = bob.post(  # a hand-made POST with a valid token for a playbook the page never offered
        f"/incidents/{incident}/launch",
        data={"playbook": "/etc/passwd.yaml", "csrf_token": re.findall(r'csrf_token" value="([^"]+)', page.text)[0]},
        follow_redirects=False,
    )
    assert crafted.status_code == 422 and "no built-in playbook" in crafted.text
    cli = run_cli("launch", "data-breach", "--incident", str(incident), "--as", "bob")
    assert cli.exit_code == 4 and "policy playbook.launch" in cli.stderr
    assert runs(incident) == []
    refusals = [(e["actor"], e["payload"]["via"]) for e in timeline(console.api, incident)
                if e["action"] == "playbook.launch_refused"]  # fmt: skip
    assert refusals == [("bob", "console"), ("bob", "api"), ("bob", "local")]

    console.set_admin("carl")
    carl = console.as_person("carl")
    assert "You cannot launch" not in carl.get(f"/incidents/{incident}/launch").text
    launched = console.post_form(carl, f"/incidents/{incident}/launch", {"playbook": "data-breach"})
    assert launched.status_code == 303 and launched.headers["location"] == f"/incidents/{incident}"
    by_api = console.api.post(f"/api/incidents/{incident}/playbooks", "alice", json={"playbook": "social-crisis"})
    assert by_api.status_code == 201, by_api.text
    assert sorted(runs(incident)) == ["data-breach", "social-crisis"]
    launch = next(e for e in timeline(console.api, incident) if e["action"] == "playbook.launched")
    assert (launch["actor"], launch["payload"]["via"]) == ("carl", "console")


def test_the_declarer_may_launch_the_first_playbook_while_declaring(console: Console) -> None:
    alice = console.as_person("alice")
    data = {"title": "Ransom note", "commander": "bob", "playbook": "data-breach", "inputs": "summary: encrypted"}
    response = console.post_form(alice, "/incidents", data)
    assert response.status_code == 303, response.text
    incident = int(response.headers["location"].rsplit("/", 1)[1])
    assert runs(incident) == ["data-breach"]
    again = console.post_form(alice, f"/incidents/{incident}/launch", {"playbook": "social-crisis"})
    assert again.status_code == 403  # not while declaring any more, and alice is not the commander (bob is)
    assert runs(incident) == ["data-breach"]


def test_an_observer_cannot_change_the_status_or_close_while_the_commander_and_an_admin_can(console: Console) -> None:
    incident = declare(console.api, commander="alice")["id"]
    assigned = console.api.post(f"/api/incidents/{incident}/roles", json={"role": "observer", "person": "bob"})
    assert assigned.status_code == 201, assigned.text
    bob = console.as_person("bob")
    status_page = bob.get(f"/incidents/{incident}/status")
    assert status_page.status_code == 200 and 'action="/incidents/' not in status_page.text  # no form for bob
    assert f"You cannot change the status of INC-{incident}: bob is not commander or an admin" in status_page.text
    assert "Change the status" not in bob.get(f"/incidents/{incident}").text

    moved = console.post_form(bob, f"/incidents/{incident}/status", {"status": "investigating"})
    assert moved.status_code == 403 and "policy incident.status" in moved.text
    refused = console.post_form(bob, f"/incidents/{incident}/status", {"status": "closed", "reason": "done"})
    assert refused.status_code == 403 and "policy incident.close" in refused.text
    api = console.api.post(f"/api/incidents/{incident}/status", "bob", json={"status": "closed"})
    assert api.status_code == 403 and "policy incident.close" in api.json()["error"]
    assert run_cli("close", str(incident), "--as", "bob").exit_code == 4
    assert console.api.get(f"/api/incidents/{incident}").json()["status"] == "declared"
    refusals = [(e["actor"], e["action"], e["payload"]["via"]) for e in timeline(console.api, incident)
                if e["action"].endswith("_refused")]  # fmt: skip
    assert refusals == [
        ("bob", "incident.status_refused", "console"),
        ("bob", "incident.close_refused", "console"),
        ("bob", "incident.close_refused", "api"),
        ("bob", "incident.close_refused", "local"),
    ]
    timeline_page = console.as_person("alice").get(f"/incidents/{incident}").text
    row = re.search(r'<tr class="event-incident-status_refused tone-alarming">(.*?)</tr>', timeline_page, re.S)
    assert row and "Status change refused: bob is not commander or an admin" in row.group(1)

    alice = console.as_person("alice")  # the commander
    form = alice.get(f"/incidents/{incident}/status").text
    assert f'action="/incidents/{incident}/status"' in form and '<option value="investigating">' in form
    assert console.post_form(alice, f"/incidents/{incident}/status", {"status": "investigating"}).status_code == 303
    assert console.api.get(f"/api/incidents/{incident}").json()["status"] == "investigating"
    changed = [e for e in timeline(console.api, incident) if e["action"] == "incident.status_changed"]
    assert [(e["actor"], e["payload"]["to"], e["payload"]["via"]) for e in changed] == [
        ("alice", "investigating", "console")
    ]

    console.set_admin("carl")
    carl = console.as_person("carl")
    stale = console.post_form(carl, f"/incidents/{incident}/status", {"status": "closed", "version": "1"})
    assert stale.status_code == 409  # the form carried an old version: someone changed the incident since
    closed = console.post_form(carl, f"/incidents/{incident}/status", {"status": "closed", "reason": "false alarm"})
    assert closed.status_code == 303
    assert console.api.get(f"/api/incidents/{incident}").json()["status"] == "closed"


def test_every_core_action_is_a_plain_form_without_javascript(console: Console) -> None:
    incident = declare(console.api, commander="alice")["id"]
    alice = console.as_person("alice")
    for path, action in (
        ("/incidents/new", "/incidents"),
        (f"/incidents/{incident}/launch?playbook=data-breach", f"/incidents/{incident}/launch"),
        (f"/incidents/{incident}/status", f"/incidents/{incident}/status"),
    ):
        html = alice.get(path).text
        assert f'<form method="post" action="{action}"' in html and '<button type="submit">' in html
        assert 'name="csrf_token"' in html and "<script>" not in html  # no inline script: the CSP forbids it
        labels = set(re.findall(r'<label for="([^"]+)"', html))
        fields = set(re.findall(r'<(?:input|select|textarea) id="([^"]+)"', html))
        assert fields <= labels, f"{path}: inputs without a label: {fields - labels}"
    launched = console.post_form(alice, f"/incidents/{incident}/launch", {"playbook": "social-crisis"})
    assert launched.status_code == 303
    page = alice.get("/incidents").text
    assert "Playbook social-crisis launched" in page and 'href="#main"' in page


def upload_form(console: Console, who: str, incident: int, fields: dict[str, str], files: dict) -> httpx.Response:
    """POST the launch form as multipart, as a browser does with an <input type="file">."""
    client = console.as_person(who)
    data = {"playbook": "data-breach", **fields, "csrf_token": csrf_token(client, "/incidents")}
    return client.post(f"/incidents/{incident}/launch", data=data, files=files, follow_redirects=False)


def uploads_home() -> Path:
    from tocsin.core.config import get_settings

    return get_settings().home / "uploads"


def stored_uploads() -> list[Path]:
    return sorted(p for p in uploads_home().rglob("*") if p.is_file()) if uploads_home().exists() else []


def test_the_launch_form_has_typed_fields_human_labels_and_file_uploads(console: Console) -> None:
    incident = declare(console.api, commander="alice")["id"]
    html = console.as_person("alice").get(f"/incidents/{incident}/launch?playbook=data-breach").text
    assert f'action="/incidents/{incident}/launch" enctype="multipart/form-data"' in html

    def field(name: str) -> str:
        found = re.search(rf'<(?:input|textarea) id="data-breach-{name}"[^>]*>', html)
        assert found, name
        return found.group(0)

    assert 'type="number"' in field("approx_records") and 'min="0"' in field("approx_records")
    assert 'type="email"' in field("regulator_email")
    assert 'type="file"' in field("recipients") and 'accept=".csv,.jsonl' in field("recipients")
    assert 'type="file"' in field("mentions") and 'accept=".jsonl' in field("mentions")
    assert field("nature_of_breach").startswith("<textarea") and 'type="text"' in field("categories_of_data")
    assert '<label for="data-breach-approx_records">Approximate records</label>' in html
    assert '<label for="data-breach-nature_of_breach">Nature of breach</label>' in html
    assert '<code class="ident"' in html and ">regulator_email</code>" in html  # the identifier, in small type
    assert 'aria-describedby="data-breach-recipients-help"' in html and "kept on the server for 90 days" in html


def test_a_bad_recipients_upload_is_refused_with_its_line_numbers_and_nothing_is_launched(console: Console) -> None:
    incident = declare(console.api, commander="alice")["id"]
    rows = "email,name\nana@example.org,Ana\nnot-an-address,Bo\n\nzoe@example.org,Zoe,extra\n"
    typed = {"input.approx_records": "112,000", "input.summary": "A <b>summary</b>"}
    refused = upload_form(console, "alice", incident, typed, {"input.recipients": ("people.csv", rows, "text/csv")})
    assert refused.status_code == 422, refused.text
    assert "Nothing was launched." in refused.text and 'role="alert"' in refused.text
    assert "line 3: not a valid email address" in refused.text and "line 5: 3 fields, the header has 2" in refused.text
    assert "not-an-address" not in refused.text  # the reason never repeats the row's personal data
    assert 'aria-invalid="true"' in refused.text
    assert "people.csv was refused; line 3: not a valid email address" in refused.text  # the summary at the top
    assert 'value="112,000"' in refused.text and "A &lt;b&gt;summary&lt;/b&gt;</textarea>" in refused.text  # kept
    assert runs(incident) == [] and "playbook.launched" not in [a for _, a in actions(console, incident)]
    assert stored_uploads() == []  # the refused file is not kept

    header = upload_form(console, "alice", incident, {}, {"input.recipients": ("p.csv", "name\nAna\n", "text/csv")})
    assert header.status_code == 422 and "line 1: the header has no `email` column" in header.text
    mentions = upload_form(
        console, "alice", incident, {}, {"input.mentions": ("m.jsonl", '{"id": "1"}\nnot json\n', "application/json")}
    )
    assert mentions.status_code == 422 and "line 2:" in mentions.text and "line 1:" in mentions.text
    for fields, message in (
        ({"input.approx_records": "lots"}, "&#39;lots&#39; is not a whole number"),
        ({"input.regulator_email": "cnil at example"}, "not a valid email address"),
    ):
        typed_refusal = upload_form(console, "alice", incident, fields, {})
        assert typed_refusal.status_code == 422 and message in typed_refusal.text
    assert runs(incident) == [] and stored_uploads() == []


def test_a_good_upload_is_stored_privately_passed_as_a_path_and_purged_after_retention(console: Console) -> None:
    from sqlmodel import select
    from tocsin.models.playbook_run import PlaybookRun

    from tocsin.core.clocks import utcnow
    from tocsin.db.engine import session_scope
    from tocsin.retention.files import purge_files

    incident = declare(console.api, commander="alice")["id"]
    rows = "email,name\nana@example.org,Ana\n"
    refused = upload_form(console, "bob", incident, {}, {"input.recipients": ("people.csv", rows, "text/csv")})
    assert refused.status_code == 403 and stored_uploads() == []  # not the commander: nothing read or stored

    typed = {"input.approx_records": "112 000", "input.regulator_email": " DPO@Example.org "}
    launched = upload_form(console, "alice", incident, typed, {"input.recipients": ("people.csv", rows, "text/csv")})
    assert launched.status_code == 303, launched.text
    [stored] = stored_uploads()
    assert stored.name == "recipients.csv" and stored.read_text() == rows
    assert stored.stat().st_mode & 0o777 == 0o600 and stored.parent.stat().st_mode & 0o777 == 0o700
    assert uploads_home().stat().st_mode & 0o777 == 0o700
    with session_scope() as session:
        run = session.exec(select(PlaybookRun).where(PlaybookRun.incident_id == incident)).one()
        assert run.inputs == {
            "recipients": str(stored),
            "approx_records": "112000",
            "regulator_email": "dpo@example.org",
        }
    home = uploads_home().parent
    kept = purge_files(home, now=utcnow() + timedelta(days=89), recipient_days=90, mention_days=30, dry_run=False)
    assert kept == [] and stored.exists()
    gone = purge_files(home, now=utcnow() + timedelta(days=91), recipient_days=90, mention_days=30, dry_run=False)
    assert [g.path for g in gone if g.kind == "recipients"] == [stored]  # (the run's outbox copies go too)
    assert not stored.exists() and not stored.parent.exists()


def test_the_declare_form_checks_playbook_inputs_and_takes_no_server_paths(console: Console) -> None:
    alice = console.as_person("alice")
    for inputs, message in (
        ("recipients: /etc/passwd", "recipients: upload the recipients file on the launch page"),
        ("approx_records: many", "approx_records: &#39;many&#39; is not a whole number"),
        ("regulator_email: nobody", "regulator_email: not a valid email address"),
    ):
        data = {"title": "Leak", "playbook": "data-breach", "inputs": inputs}
        response = console.post_form(alice, "/incidents", data)
        assert response.status_code == 422 and message in response.text, response.text
    assert console.api.get("/api/incidents").json() == []
    page = alice.get("/incidents/new").text
    assert 'aria-describedby="aware-help"' in page and '<p class="hint" id="aware-help">' in page
