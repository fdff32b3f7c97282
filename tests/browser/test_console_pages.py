"""Who may approve, CSRF, and every page of the console in a real browser (SQLite): a person without the legal
role gets no approve button, and a crafted POST from their own session (valid CSRF token) or their API token
is refused 403 and lands on the timeline; a form without the session's CSRF token is refused; every page is
screenshotted (TOCSIN_SCREENSHOT_DIR, else .tocsin/screenshots/) and checked for labels, one h1 and no
sideways scrolling at 1366x768."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import SQLITE, Console, log_in, screenshot_dir, shot
from tests.browser.pages import TIME_LEFT, api, csrf_of, draft_of, timeline_of

pytestmark = SQLITE
# Every input a person can fill has a label (or an accessible name); the page does not scroll sideways.
PAGE_PROBLEMS = """() => {
  const problems = [];
  for (const field of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (!(field.labels && field.labels.length) && !field.getAttribute("aria-label")
        && !field.getAttribute("aria-labelledby")) problems.push("no label: " + field.outerHTML.slice(0, 80));
  }
  const h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) problems.push(h1 + " h1 elements");
  if (document.documentElement.scrollWidth > window.innerWidth) {
    problems.push("scrolls sideways: " + document.documentElement.scrollWidth + " px wide");
  }
  return problems;
}"""


def refusals(console: Console, draft: int) -> list[tuple[str, str]]:
    return [
        (e["actor"], e["payload"]["attempted"])
        for e in timeline_of(console.url, console.data.carl_token, console.data.incident)
        if e["action"] == "draft.approval_refused" and e["payload"]["draft"] == f"D-{draft}"
    ]


def test_a_person_without_the_legal_role_cannot_approve_on_the_page(
    console: Console, page: Any, fresh_draft: int
) -> None:
    log_in(page, "carl", then=f"/drafts/{fresh_draft}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"D-{fresh_draft}")
    assert page.get_by_role("button", name="Approve").count() == 0
    assert page.locator(f"form[action='/drafts/{fresh_draft}/approve']").count() == 0
    incident = console.data.incident
    expect(page.get_by_text(f"You cannot approve: carl is not legal on INC-{incident}")).to_be_visible()
    page.locator("section[aria-labelledby=decide-h]").screenshot(path=str(screenshot_dir() / "draft-decision-carl.png"))

    draft = draft_of(console.url, console.data.carl_token, fresh_draft)
    crafted = page.request.post(
        f"/drafts/{fresh_draft}/approve",
        form={"csrf_token": csrf_of(page), "sha256": draft["sha256"], "comment": "crafted"},
        max_redirects=0,
    )
    assert crafted.status == 403, crafted.status
    assert f"carl is not legal on INC-{incident}" in crafted.text() and "policy draft.approval" in crafted.text()
    assert draft_of(console.url, console.data.carl_token, fresh_draft)["status"] == "in_review"
    assert refusals(console, fresh_draft) == [("carl", "approve")]

    page.goto(f"/incidents/{console.data.incident}#timeline")
    newest = page.locator("table.timeline tbody tr").first
    assert [newest.locator("td").nth(n).inner_text() for n in (1, 2)] == ["carl", "draft.approval_refused"]
    assert f"D-{fresh_draft}: approve refused: carl is not legal" in newest.inner_text()
    assert "tone-alarming" in (newest.get_attribute("class") or "")
    newest.locator("summary").click()  # the details name the door: the console
    expect(newest.locator("dl.event-pairs")).to_contain_text("via")
    expect(newest.locator("dl.event-pairs")).to_contain_text("console")
    page.locator("table.timeline").first.screenshot(path=str(screenshot_dir() / "timeline-refusal.png"))
    for part, name in (("section.summary", "incident-summary-carl"), ("#clock", "incident-clock-carl")):
        page.locator(part).screenshot(path=str(screenshot_dir() / f"{name}.png"))  # no forms carl may not use

    page.set_content(crafted.text())  # what the refusal looks like
    shot(page, "error-403-refused")


def test_a_person_without_the_legal_role_cannot_approve_through_the_api(console: Console, fresh_draft: int) -> None:
    sha = draft_of(console.url, console.data.carl_token, fresh_draft)["sha256"]
    status, body = api(console.url, f"/api/drafts/{fresh_draft}/approve", console.data.carl_token, {"sha256": sha})
    assert status == 403 and f"carl is not legal on INC-{console.data.incident}" in body["error"]
    assert draft_of(console.url, console.data.carl_token, fresh_draft)["status"] == "in_review"
    assert refusals(console, fresh_draft) == [("carl", "approve")]


def test_a_form_without_the_session_csrf_token_is_refused(
    console: Console, page: Any, browser: Any, fresh_draft: int
) -> None:
    log_in(page, "lena", then=f"/drafts/{fresh_draft}")
    sha = draft_of(console.url, console.data.carl_token, fresh_draft)["sha256"]
    other = browser.new_context(base_url=console.url)
    try:
        other_page = other.new_page()
        log_in(other_page, "dora", then=f"/drafts/{fresh_draft}")
        foreign_token = csrf_of(other_page)  # valid, but for dora's session
    finally:
        other.close()
    for label, fields in {
        "missing": {"sha256": sha},
        "wrong": {"sha256": sha, "csrf_token": "not-the-token"},
        "another session's": {"sha256": sha, "csrf_token": foreign_token},
    }.items():
        refused = page.request.post(f"/drafts/{fresh_draft}/approve", form=fields, max_redirects=0)
        assert refused.status == 403, f"{label} token: {refused.status}"
        assert "CSRF" in refused.text(), label
    assert draft_of(console.url, console.data.carl_token, fresh_draft)["status"] == "in_review"
    assert refusals(console, fresh_draft) == []  # refused before any service was asked
    anonymous = browser.new_context(base_url=console.url)
    try:
        forged_login = anonymous.request.post(
            "/login", form={"handle": "lena", "password": "lena-console-pw-1"}, max_redirects=0
        )
        assert forged_login.status == 403  # a log-in form posted from elsewhere (login CSRF)
    finally:
        anonymous.close()


def check(page: Any, name: str) -> None:
    """Screenshot the page as `name`.png, then insist on labels, one h1 and no sideways scrolling."""
    shot(page, name)
    assert page.evaluate(PAGE_PROBLEMS) == [], f"{name}: {page.url}"


def test_every_page_renders_and_is_screenshotted(console: Console, page: Any, browser: Any, fresh_draft: int) -> None:
    incident = console.data.incident
    page.goto("/incidents")
    assert "/login?next=/incidents" in page.url  # not logged in: the log-in page
    check(page, "login")
    page.get_by_label("Handle").fill("alice")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check(page, "login-refused")

    log_in(page, "alice")
    expect(page.get_by_role("heading", level=1)).to_have_text("Open incidents")
    row = page.locator("table.incidents tbody tr").filter(has_text=f"INC-{incident}")
    assert TIME_LEFT.search(row.inner_text())
    check(page, "incidents")

    page.goto(f"/incidents/{incident}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"INC-{incident}: Customer DB exposed")
    assert page.locator("table.clock tbody tr").count() >= 5
    check(page, "incident")
    page.locator("section.summary").screenshot(path=str(screenshot_dir() / "incident-summary-commander.png"))
    page.goto("/incidents/new")
    check(page, "declare")
    page.goto(f"/incidents/{incident}/launch")
    check(page, "launch")
    page.get_by_role("link", name="Fill in the inputs and launch data-breach").click()
    expect(page.get_by_role("button", name=f"Launch data-breach on INC-{incident}")).to_be_visible()
    check(page, "launch-inputs")
    page.goto(f"/incidents/{incident}/status")
    check(page, "status")
    page.goto(f"/incidents/{incident}/waves")
    expect(page.get_by_role("heading", name="Wave 1", exact=False)).to_be_visible()
    assert "5 of 5" in page.locator("#waves-live").inner_text()
    check(page, "waves")
    page.goto(f"/drafts/{console.data.approved_draft}")
    check(page, "draft-approved")

    legal = browser.new_context(viewport=page.viewport_size, base_url=console.url)
    try:
        lena = legal.new_page()
        log_in(lena, "lena", then="/approvals")
        expect(lena.get_by_role("link", name=f"Review D-{fresh_draft}")).to_be_visible()
        check(lena, "approvals")
        lena.goto(f"/drafts/{fresh_draft}")
        check(lena, "draft-review")
        decide = lena.locator("section[aria-labelledby=decide-h]")
        decide.screenshot(path=str(screenshot_dir() / "draft-decision-legal.png"))
        lena.goto("/incidents/999999")
        assert lena.get_by_role("heading", level=1).inner_text() == "Not found"
        check(lena, "error-404")
    finally:
        legal.close()
