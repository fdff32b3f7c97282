"""Legal approves a notice in a real browser (on SQLite and on PostgreSQL): log in, the approval queue, the draft
shown exactly as it will be sent, approve; the incident page then shows the approval on its timeline and the
countdown of every obligation, and recording the GDPR Art. 33 submission moves that obligation to submitted.
Also with the keyboard only, and with JavaScript switched off."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import BOTH_DATABASES, SQLITE, Console, log_in, shot
from tests.browser.pages import TIME_LEFT, assert_shows_as_sent, draft_of, minutes_left, timeline_of

GDPR = "eu.gdpr.art33.supervisory_authority"


def approve_button(page: Any) -> Any:
    return page.get_by_role("button", name=re.compile(r"^Approve revision \d+ exactly as shown$"))


def assert_approved_by(console: Console, draft: int, handle: str) -> dict[str, Any]:
    shown = draft_of(console.url, console.data.carl_token, draft)
    assert shown["status"] == "approved", shown["status"]
    decision = shown["decision"]
    assert decision["decision"] == "approved" and decision["decided_by"] == handle and decision["sendable"] is True
    assert decision["decided_sha256"] == shown["sha256"]
    return shown


def obligation_row(page: Any, rule: str) -> Any:
    return page.locator("table.clock tbody tr").filter(has=page.locator("th", has_text=rule))


@BOTH_DATABASES
def test_legal_approves_from_the_queue_and_the_incident_page_shows_it(console: Console, page: Any, fresh_draft: int):
    incident, ref = console.data.incident, f"D-{fresh_draft}"
    expected = draft_of(console.url, console.data.carl_token, fresh_draft)
    page.clock.install()  # the page's own clock, so the live countdown can be moved on
    log_in(page, "lena", then="/approvals")
    assert page.url.endswith("/approvals")
    queue_row = page.locator("table.queue tbody tr").filter(has=page.get_by_role("link", name=f"Review {ref}"))
    assert "you can approve" in queue_row.inner_text()
    queue_row.get_by_role("link", name=f"Review {ref}").click()
    assert page.url.endswith(f"/drafts/{fresh_draft}")
    assert_shows_as_sent(page, expected)
    assert expected["sha256"] in page.locator("code.hash").inner_text()

    with page.expect_navigation():
        approve_button(page).click()
    expect(page.get_by_role("status").filter(has_text=f"{ref} approved")).to_be_visible()
    approved = assert_approved_by(console, fresh_draft, "lena")
    assert approved["decision"]["decided_sha256"] == expected["sha256"]  # exactly the content shown

    page.get_by_role("link", name=re.compile(f"^INC-{incident}:")).click()
    assert page.url.split("#")[0].endswith(f"/incidents/{incident}")
    newest = page.locator("table.timeline tbody tr").first
    assert newest.locator("td").nth(1).inner_text() == "lena"
    assert newest.locator("td").nth(2).inner_text() == "draft.approved" and ref in newest.inner_text()
    drafts_row = page.locator("#drafts tbody tr").filter(has=page.get_by_role("link", name=ref, exact=True))
    assert "approved" in drafts_row.inner_text()

    gdpr = obligation_row(page, GDPR)
    assert "Art. 33" in gdpr.inner_text() and gdpr.get_attribute("class") == "urgency-on-track"
    left = gdpr.locator(".time-left").inner_text()
    assert TIME_LEFT.fullmatch(left) and not left.startswith("overdue"), left  # aware 5 h ago: 67 h of 72 left
    assert gdpr.locator(".standing").inner_text().strip()  # words, not colour alone
    page.clock.fast_forward("03:00:00")  # console.js re-computes every time left as the page's clock moves
    expect(gdpr.locator(".time-left")).not_to_have_text(left)
    moved = minutes_left(left) - minutes_left(gdpr.locator(".time-left").inner_text())
    assert 180 <= moved <= 240, moved  # 3 h (shown in whole hours: one more if an hour boundary passed meanwhile)

    gdpr.get_by_text("Record submission").click()  # opens the row's form
    gdpr.get_by_label("Note").fill("CNIL receipt 4512")
    gdpr.get_by_role("button", name="Record it").click()
    gdpr = obligation_row(page, GDPR)
    assert gdpr.get_attribute("class") == "urgency-submitted"
    assert "submitted" in gdpr.locator(".standing").inner_text().lower()
    shot(page, "incident-after-approval")
    actions = [(e["actor"], e["action"]) for e in timeline_of(console.url, console.data.carl_token, incident)]
    assert ("lena", "draft.approved") in actions and actions[-1][0] == "lena"


@SQLITE
def test_keyboard_only_tab_to_approve_and_press_enter(console: Console, page: Any, fresh_draft: int) -> None:
    log_in(page, "dora", then=f"/drafts/{fresh_draft}")
    assert page.url.endswith(f"/drafts/{fresh_draft}")
    button = approve_button(page)
    for _ in range(80):
        page.keyboard.press("Tab")
        if button.evaluate("element => element === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the approve button")
    outline = button.evaluate("e => getComputedStyle(e).outlineStyle + ' ' + getComputedStyle(e).boxShadow")
    assert outline != "none none", "the focused approve button shows no focus indicator"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text=f"D-{fresh_draft} approved")).to_be_visible()
    assert_approved_by(console, fresh_draft, "dora")
    assert "tz" in {c["name"] for c in page.context.cookies()}  # console.js ran here


@SQLITE
def test_without_javascript_legal_logs_in_and_approves(console: Console, nojs_page: Any, fresh_draft: int) -> None:
    page = nojs_page
    log_in(page, "lena", then=f"/drafts/{fresh_draft}")
    assert page.url.endswith(f"/drafts/{fresh_draft}")
    with page.expect_navigation():
        approve_button(page).click()
    expect(page.get_by_role("status").filter(has_text=f"D-{fresh_draft} approved")).to_be_visible()
    assert_approved_by(console, fresh_draft, "lena")
    page.goto(f"/incidents/{console.data.incident}")
    assert TIME_LEFT.search(page.locator("table.clock").inner_text())  # server-rendered time left, no script
    assert "tz" not in {c["name"] for c in page.context.cookies()}  # console.js never ran
