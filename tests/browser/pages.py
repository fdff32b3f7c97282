"""What the browser tests check on the console's pages, and the JSON API calls they compare them with."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

TIME_LEFT = re.compile(r"(\d+ d \d+ h|\d+ h \d+ min|\d+ min) left|overdue by")


def minutes_left(text: str) -> int:
    """`2 d 18 h left` -> 3960 (minutes; whole hours when days are shown); negative when overdue."""
    units = {"d": 1440, "h": 60, "min": 1}
    total = sum(int(n) * units[unit] for n, unit in re.findall(r"(\d+) (d|h|min)\b", text))
    return -total if text.startswith("overdue") else total


def api(url: str, path: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """Call the JSON API as the token's person: (status, decoded body)."""
    request = urllib.request.Request(
        url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def draft_of(url: str, token: str, draft: int) -> dict[str, Any]:
    status, body = api(url, f"/api/drafts/{draft}", token)
    assert status == 200, body
    return dict(body)


def timeline_of(url: str, token: str, incident: int) -> list[dict[str, Any]]:
    status, body = api(url, f"/api/incidents/{incident}/timeline", token)
    assert status == 200, body
    return list(body)


def csrf_of(page: Any) -> str:
    """The CSRF token the page's own forms carry (e.g. the log-out form in the header)."""
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token, f"no csrf_token field on {page.url}"
    return str(token)


def assert_shows_as_sent(page: Any, draft: dict[str, Any]) -> None:
    """The review page shows the draft exactly as it will be sent: the subject, the text part verbatim, and the
    HTML part verbatim (as the document of a sandboxed iframe, or as escaped source)."""
    body = page.locator("body").inner_text()
    assert draft["subject"] in body, f"the subject {draft['subject']!r} is not on the page"
    texts = [t.strip("\n") for t in page.locator("pre").all_text_contents()]
    assert draft["text"].strip("\n") in texts, "the text part is not shown verbatim in a <pre>"
    if draft.get("html"):
        frames = page.locator("iframe[srcdoc]")
        shown = [frames.nth(i).get_attribute("srcdoc") for i in range(frames.count())]
        if draft["html"] in shown:
            sandbox = frames.nth(shown.index(draft["html"])).get_attribute("sandbox")
            assert sandbox is not None and "allow-scripts" not in sandbox, "the HTML preview must be sandboxed"
        else:
            assert draft["html"].strip("\n") in texts, "the HTML part is neither an iframe's srcdoc nor a <pre>"
