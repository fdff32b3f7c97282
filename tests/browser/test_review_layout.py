"""Legal reads the whole notice before the approve button (W2's review, queue and incident pages in chromium):
the text part in a <pre> that grows (no inner scrolling), the sandboxed HTML preview tall enough for all of its
content, the HTML body alone under a CSP sandbox, the approve button after all of it; the queue shows each
incident's nearest deadline; the incident page's rule ids do not overflow their column."""

from __future__ import annotations

import html
import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import SQLITE, Console, log_in, screenshot_dir
from tests.browser.pages import TIME_LEFT, draft_of

pytestmark = SQLITE
GROWS = "e => ({scroll: e.scrollHeight, client: e.clientHeight, max: getComputedStyle(e).maxHeight})"


def last_words(markup: str) -> str:
    """The last line of text of an HTML body (the end of the notice)."""
    lines = [" ".join(html.unescape(line).split()) for line in re.split(r"<[^>]+>", markup)]
    return [line for line in lines if line][-1]


def test_the_whole_notice_is_visible_before_the_approve_button(console: Console, page: Any, fresh_draft: int) -> None:
    draft = draft_of(console.url, console.data.carl_token, fresh_draft)
    log_in(page, "lena", then=f"/drafts/{fresh_draft}")
    text = page.locator("pre.message-text").first
    sizes = text.evaluate(GROWS)
    assert sizes["max"] == "none" and sizes["scroll"] <= sizes["client"] + 1, sizes  # no scrolling inside
    assert text.text_content().strip("\n") == draft["text"].strip("\n")

    frame_element = page.locator("iframe.message-html")
    frame_element.scroll_into_view_if_needed()
    inner = frame_element.content_frame
    expect(inner.locator("body")).to_contain_text(last_words(draft["html"]))
    needed = inner.locator("html").evaluate("e => e.scrollHeight")
    shown = frame_element.evaluate("e => e.clientHeight")
    assert needed <= shown, f"the HTML preview needs {needed} px but shows {shown} px: it would scroll"
    page.screenshot(path=str(screenshot_dir() / "draft-review-html.png"))  # the frame in view (full-page shots
    # leave sandboxed frames blank in headless chromium)

    button = page.get_by_role("button", name=f"Approve revision {draft['revision']} exactly as shown")
    bottom_of_content = max(
        box["y"] + box["height"] for box in (text.bounding_box(), frame_element.bounding_box()) if box is not None
    )
    assert button.bounding_box()["y"] > bottom_of_content  # type: ignore[index]
    expect(button).to_contain_text(draft["sha256"][:12])  # visible on the button (hidden from its name)

    link = page.get_by_role("link", name="open the HTML body alone")
    alone = page.request.get(link.get_attribute("href"))
    assert alone.status == 200 and alone.text() == draft["html"]
    assert alone.headers["content-security-policy"].startswith("sandbox;")
    with page.context.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert last_words(draft["html"]) in " ".join(tab.locator("body").inner_text().split())
    tab.close()


def test_the_queue_shows_the_nearest_deadline_and_the_wait(console: Console, page: Any, fresh_draft: int) -> None:
    log_in(page, "lena", then="/approvals")
    row = page.locator("table.queue tbody tr").filter(has=page.get_by_role("link", name=f"Review D-{fresh_draft}"))
    deadline = row.locator("td.deadline")
    assert TIME_LEFT.search(deadline.locator(".time-left").inner_text())
    assert "urgency-" in (deadline.get_attribute("class") or "") and deadline.locator(".standing").inner_text()
    waited = row.locator("time[title^='since']")
    assert waited.count() == 1 and waited.inner_text()


def test_rule_ids_wrap_only_between_words(console: Console, page: Any) -> None:
    log_in(page, "alice", then=f"/incidents/{console.data.incident}")
    rules = page.locator("table.clock th .rule")
    assert rules.count() >= 5
    for n in range(rules.count()):
        rule = rules.nth(n)
        style = rule.evaluate("e => [getComputedStyle(e).wordBreak, e.scrollWidth <= e.clientWidth]")
        assert style == ["keep-all", True], (rule.inner_text(), style)
    older = page.locator("details.older-events")
    if older.count():
        assert not older.evaluate("e => e.open")  # the older events wait behind a <details>
