"""Legal's review in the console: the queue, the draft exactly as it will be sent (HTML isolated), the diff to
the previous revision, approve bound to the content hash shown, reject with a comment; non-legal viewers get
no buttons and a crafted POST is refused (403, on the timeline); CSRF and stale content are refused."""

from __future__ import annotations

import html
import re

from tests.web.conftest import declare, timeline
from tests.web.console_helpers import Console
from tests.web.test_approvals_and_acks import draft_in_review

SHA_FIELD = re.compile(r'name="sha256" value="([0-9a-f]{64})"')


def setup(console: Console) -> tuple[int, dict]:
    """An incident with lena and bob as legal, and a draft by bob in review."""
    ident = declare(console.api)["id"]
    for person in ("lena", "bob"):
        console.api.post(f"/api/incidents/{ident}/roles", json={"role": "legal", "person": person})
    return ident, draft_in_review(ident, author="bob")


def actions(console: Console, ident: int) -> list[tuple[str, str]]:
    return [(e["actor"], e["action"]) for e in timeline(console.api, ident)]


def test_legal_approves_exactly_what_the_page_shows(console: Console) -> None:
    ident, made = setup(console)
    lena = console.as_person("lena")
    queue = lena.get("/approvals").text
    assert f'href="/drafts/{made["id"]}">Review D-{made["id"]}</a>' in queue and "you can approve" in queue

    page = lena.get(f"/drafts/{made['id']}")
    shown = console.api.get(f"/api/drafts/{made['id']}").json()
    text = html.unescape(page.text)
    assert shown["subject"] in text and shown["text"] in text  # the stored content, which the senders send
    frame = re.search(r"<iframe [^>]*>", page.text)
    assert frame and 'sandbox=""' in frame.group(0)
    assert html.unescape(re.search(r'srcdoc="([^"]*)"', frame.group(0)).group(1)) == shown["html"]  # type: ignore[union-attr]
    assert SHA_FIELD.search(page.text).group(1) == shown["sha256"]  # type: ignore[union-attr]
    assert "is the first: nothing to compare" in page.text

    approved = console.post_form(lena, f"/drafts/{made['id']}/approve", {"sha256": shown["sha256"], "comment": "OK"})
    assert approved.status_code == 303 and approved.headers["location"] == f"/drafts/{made['id']}"
    after = lena.get(f"/drafts/{made['id']}").text
    assert f"D-{made['id']} approved (revision 1" in after and "May be sent: <strong>yes</strong>" in after
    assert 'action="/drafts/' not in after  # nothing left to decide
    decision = console.api.get(f"/api/drafts/{made['id']}").json()["decision"]
    assert decision["decided_by"] == "lena" and decision["sendable"] is True and decision["comment"] == "OK"
    assert ("lena", "draft.approved") in actions(console, ident)
    incident_page = lena.get(f"/incidents/{ident}").text
    assert "draft.approved" in incident_page and 'class="status draft-approved">approved' in incident_page
    assert "No draft is waiting for a decision" in lena.get("/approvals").text


def test_non_legal_viewers_get_no_buttons_and_a_crafted_post_is_refused_on_the_timeline(console: Console) -> None:
    ident, made = setup(console)
    carl, bob = console.as_person("carl"), console.as_person("bob")
    carl_view = carl.get(f"/drafts/{made['id']}").text
    assert f'action="/drafts/{made["id"]}/approve"' not in carl_view and "/reject" not in carl_view
    assert f"carl is not legal on INC-{ident}" in carl_view
    assert "<strong>you can approve</strong>" not in carl.get("/approvals").text

    crafted = console.post_form(carl, f"/drafts/{made['id']}/approve", {"sha256": made["sha256"]})
    assert crafted.status_code == 403 and f"carl is not legal on INC-{ident}" in crafted.text
    assert "policy draft.approval" in crafted.text  # the refusal names the rule
    rejected = console.post_form(carl, f"/drafts/{made['id']}/reject", {"comment": "No."})
    assert rejected.status_code == 403 and "policy draft.rejection" in rejected.text

    bob_view = bob.get(f"/drafts/{made['id']}").text  # legal, but the author: may reject, not approve
    assert "four-eyes" in bob_view and "/approve" not in bob_view
    assert f'action="/drafts/{made["id"]}/reject"' in bob_view
    by_author = console.post_form(bob, f"/drafts/{made['id']}/approve", {"sha256": made["sha256"]})
    assert by_author.status_code == 403 and "four-eyes" in by_author.text

    refused = [(e["actor"], e["action"], e["payload"]["attempted"], e["payload"]["via"])
               for e in timeline(console.api, ident) if e["action"].endswith("_refused")]  # fmt: skip
    assert refused == [
        ("carl", "draft.approval_refused", "approve", "console"),
        ("carl", "draft.rejection_refused", "reject", "console"),
        ("bob", "draft.approval_refused", "approve", "console"),
    ]
    assert console.api.get(f"/api/drafts/{made['id']}").json()["status"] == "in_review"
    page = console.as_person("alice").get(f"/incidents/{ident}").text  # the refusals, red, on the timeline
    rows = re.findall(r'<tr class="event-draft-(?:approval|rejection)_refused tone-alarming">(.*?)</tr>', page, re.S)
    assert len(rows) == 3 and all("<dd>console</dd>" in row for row in rows)  # the door is in the details
    assert any(f"D-{made['id']}: reject refused: carl is not legal" in html.unescape(row) for row in rows)


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(console: Console) -> None:
    ident, made = setup(console)
    lena = console.as_person("lena")
    missing = lena.post(f"/drafts/{made['id']}/approve", data={"sha256": made["sha256"]}, follow_redirects=False)
    assert missing.status_code == 403 and "Form refused" in missing.text
    forged = lena.post(
        f"/drafts/{made['id']}/approve",
        data={"sha256": made["sha256"], "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert console.api.get(f"/api/drafts/{made['id']}").json()["status"] == "in_review"
    assert not [a for a in actions(console, ident) if a[1].startswith(("draft.approved", "draft.approval_refused"))]


def test_approving_content_that_changed_since_it_was_shown_is_refused_and_the_diff_shows_why(console: Console) -> None:
    from tocsin.db.engine import session_scope
    from tocsin.drafts.drafting import edit_draft

    ident, made = setup(console)
    lena = console.as_person("lena")
    seen = SHA_FIELD.search(lena.get(f"/drafts/{made['id']}").text).group(1)  # type: ignore[union-attr]
    with session_scope() as session:  # meanwhile, bob changes the text
        current = console.api.get(f"/api/drafts/{made['id']}").json()["text"]
        edit_draft(session, made["id"], actor="bob", text=current + "\nWe will also call you.\n")

    stale = console.post_form(lena, f"/drafts/{made['id']}/approve", {"sha256": seen})
    assert stale.status_code == 303  # back to the draft, which now shows the new content
    page = lena.get(f"/drafts/{made['id']}").text
    assert "changed since you reviewed it" in page
    assert console.api.get(f"/api/drafts/{made['id']}").json()["decision"]["decision"] is None
    assert "draft.approved" not in [a for _, a in actions(console, ident)]

    assert "Text: revision 1 → 2" in page
    added = re.findall(r'<span class="diff-add"><span class="visually-hidden">added: </span>(.*?)</span>', page)
    assert any("We will also call you." in line for line in added)
    fresh = SHA_FIELD.search(page).group(1)  # type: ignore[union-attr]
    assert fresh != seen and lena.get(f"/drafts/{made['id']}?revision=1").text.count('name="sha256"') == 0

    missing = console.post_form(lena, f"/drafts/{made['id']}/approve", {"sha256": ""})
    assert missing.status_code == 422 and "must carry the SHA-256" in missing.text
    approved = console.post_form(lena, f"/drafts/{made['id']}/approve", {"sha256": fresh})
    assert approved.status_code == 303
    assert console.api.get(f"/api/drafts/{made['id']}").json()["decision"]["decided_sha256"] == fresh


def test_reject_needs_a_comment_and_records_it(console: Console) -> None:
    ident, made = setup(console)
    lena = console.as_person("lena")
    blank = console.post_form(lena, f"/drafts/{made['id']}/reject", {"comment": "   "})
    assert blank.status_code == 303 and "needs a comment" in lena.get(f"/drafts/{made['id']}").text
    done = console.post_form(lena, f"/drafts/{made['id']}/reject", {"comment": "Say when it happened."})
    assert done.status_code == 303
    page = html.unescape(lena.get(f"/drafts/{made['id']}").text)
    assert "rejected (revision 1): Say when it happened." in page and "<strong>rejected</strong> by lena" in page
    event = next(e for e in timeline(console.api, ident) if e["action"] == "draft.rejected")
    assert event["actor"] == "lena" and event["payload"]["comment"] == "Say when it happened."


def test_the_html_body_cannot_run_in_the_console(console: Console) -> None:
    from tocsin.db.engine import session_scope
    from tocsin.drafts.drafting import edit_draft

    _, made = setup(console)
    with session_scope() as session:
        edit_draft(session, made["id"], actor="bob", html='<p>Hi</p><script>alert("x")</script><img src=x onerror=y>')
    page = console.as_person("lena").get(f"/drafts/{made['id']}")
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert 'srcdoc="&lt;p&gt;Hi&lt;/p&gt;&lt;script&gt;alert(&#34;x&#34;)' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_a_long_notice_is_shown_whole_before_the_approve_button(console: Console) -> None:
    from pathlib import Path

    from tocsin.db.engine import session_scope
    from tocsin.drafts.drafting import edit_draft

    _, made = setup(console)
    long_text = "".join(f"{n}. A measure taken, described at some length so that the line wraps on a laptop.\n"
                        for n in range(1, 121)) + "END OF THE NOTICE: signed, the DPO.\n"  # fmt: skip
    long_html = "".join(f"<p>Section {n}: what we did.</p>" for n in range(1, 81)) + "<p>END OF THE HTML</p>"
    with session_scope() as session:
        edit_draft(session, made["id"], actor="bob", text=long_text, html=long_html)
    page = console.as_person("lena").get(f"/drafts/{made['id']}").text

    pre = re.search(r'<pre class="message-text"[^>]*>(.*?)</pre>', page, re.S)
    assert pre and html.unescape(pre.group(1)) == long_text  # the whole text, verbatim, in one <pre>
    css = (Path(__file__).resolve().parents[2] / "web" / "console" / "static" / "pages.css").read_text()
    rule = re.search(r"pre\.message-text, pre\.diff \{([^}]*)\}", css)
    assert rule and "max-height" not in rule.group(1) and "pre-wrap" in rule.group(1)  # grows, wraps long lines
    frame = re.search(r"<iframe [^>]*>", page)
    assert frame and 'sandbox=""' in frame.group(0)
    height = re.search(r'style="height: (\d+)rem"', frame.group(0))
    assert height and int(height.group(1)) >= 81 * 1.5  # sized from the content (81 paragraphs), not a fixed box
    alone = f'href="/drafts/{made["id"]}/html?revision=2"'
    assert alone in page and "open the HTML body alone" in page
    end_of_content = max(page.index("END OF THE NOTICE"), page.index("END OF THE HTML"), page.index(alone))
    button = page.index("exactly as shown<span")
    assert button > end_of_content  # the approve button comes after the whole content
    sha = SHA_FIELD.search(page).group(1)  # type: ignore[union-attr]
    assert f'aria-hidden="true">sha256 {sha[:12]}</span></button>' in page  # the button names the hash it covers


def test_the_html_body_alone_is_served_verbatim_under_a_sandbox_policy(console: Console) -> None:
    from tocsin.db.engine import session_scope
    from tocsin.drafts.drafting import edit_draft

    _, made = setup(console)
    hostile = '<p>Hi</p><script>alert("x")</script><form action="https://evil.example"><button>Go</button></form>'
    with session_scope() as session:
        edit_draft(session, made["id"], actor="bob", html=hostile)
    lena = console.as_person("lena")
    alone = lena.get(f"/drafts/{made['id']}/html")
    assert alone.status_code == 200 and alone.text == hostile  # byte for byte: what the wave sends
    assert alone.headers["content-type"].startswith("text/html")
    policy = alone.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy and "form-action 'none'" in policy
    assert "allow-scripts" not in policy and alone.headers["x-content-type-options"] == "nosniff"
    first = lena.get(f"/drafts/{made['id']}/html?revision=1")
    assert first.status_code == 200 and first.text != hostile  # the revision asked for
    assert lena.get(f"/drafts/{made['id']}/html?revision=9").status_code == 404
    anonymous = console.anonymous().get(f"/drafts/{made['id']}/html", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")


def test_the_queue_shows_the_nearest_deadline_and_how_long_each_draft_has_waited(console: Console) -> None:
    from tests.web.test_console_incident import breach

    ident = breach(console)  # GDPR Art. 33 and more running, aware two hours ago
    console.api.post(f"/api/incidents/{ident}/roles", json={"role": "legal", "person": "bob"})
    made = draft_in_review(ident, author="bob")
    clock = console.api.get(f"/api/incidents/{ident}/clock").json()["obligations"]
    nearest = min((o for o in clock if o["deadline_utc"] and o["standing"] != "submitted"),
                  key=lambda o: o["deadline_utc"])  # fmt: skip
    queue = console.as_person("lena").get("/approvals").text
    row = next(r for r in re.findall(r"<tr[^>]*>.*?</tr>", queue, re.S) if f"Review D-{made['id']}" in r)
    cell = re.search(r'<td class="deadline (urgency-[a-z-]+)">(.*?)</td>', row, re.S)
    assert cell and cell.group(1) == f"urgency-{nearest['standing']}"  # coloured by urgency ...
    shown = html.unescape(cell.group(2))
    assert nearest["standing"].replace("-", " ") in shown  # ... with the standing in words
    assert f'data-deadline="{nearest["deadline_utc"]}"' in cell.group(2) and re.search(r"\d+ (d|h|min).* left", shown)
    assert nearest["citation"] in shown and nearest["recipient"] in shown
    waited = re.search(r'waiting <time datetime="[^"]+Z" title="since [^"]+ UTC\)">([^<]+)</time>', row)
    assert waited and re.fullmatch(r"less than a minute|\d+ min", waited.group(1))  # just sent to review
    other = setup(console)[1]  # an incident without facts: no deadline to show
    again = console.as_person("lena").get("/approvals").text
    plain = next(r for r in re.findall(r"<tr[^>]*>.*?</tr>", again, re.S) if f"Review D-{other['id']}" in r)
    assert "urgency-no-deadline" in plain and "no dated deadline open" in plain


def test_the_decision_says_when_it_was_made(console: Console) -> None:
    _, made = setup(console)
    lena = console.as_person("lena")
    console.post_form(lena, f"/drafts/{made['id']}/approve", {"sha256": made["sha256"]})
    decision = console.api.get(f"/api/drafts/{made['id']}").json()["decision"]
    page = lena.get(f"/drafts/{made['id']}").text
    assert re.search(rf'<strong>approved</strong> by lena <time datetime="{decision["decided_at"]}"', page)
    assert f"sha256 <code>{made['sha256'][:12]}</code>" in page
