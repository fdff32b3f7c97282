"""The fakes answer like the real services (checked over real HTTP with urllib and the official SDKs)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakes import FakeSendGrid, FakeSlack

VALID = {
    "personalizations": [{"to": [{"email": "a@example.com"}], "custom_args": {"tocsin_message_id": "m1"}}],
    "from": {"email": "notices@tocsin.example"},
    "subject": "Notice",
    "content": [{"type": "text/plain", "value": "Hello"}, {"type": "text/html", "value": "<p>Hello</p>"}],
}


def post(fake: FakeSendGrid, body: object, key: str | None = "SG.fake-key") -> tuple[int, dict, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"{fake.url}/v3/mail/send", data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def test_sendgrid_fake_accepts_a_valid_mail_with_202_and_message_id(fake_sendgrid: FakeSendGrid) -> None:
    status, body, headers = post(fake_sendgrid, VALID)
    assert (status, body) == (202, {})
    assert len(headers["X-Message-Id"]) == 22
    [received] = fake_sendgrid.snapshot()
    assert received.to == ("a@example.com",) and received.custom_args == {"tocsin_message_id": "m1"}
    assert received.body("text/html") == "<p>Hello</p>" and received.x_message_id == headers["X-Message-Id"]


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"from": None}, ["from.email"]),
        ({"personalizations": []}, ["personalizations"]),
        ({"subject": None}, ["subject"]),
        ({"content": None}, ["content"]),
        ({"content": [{"type": "text/plain", "value": ""}]}, ["content.0.value"]),
        (
            {"content": [{"type": "text/html", "value": "x"}, {"type": "text/plain", "value": "y"}]},
            ["content"],
        ),
        ({"personalizations": [{"to": [{"email": "nope"}]}]}, ["personalizations.0.to.0.email"]),
        ({"personalizations": [{"cc": [{"email": "a@b.co"}]}]}, ["personalizations.0.to"]),
        (
            {"personalizations": [{"to": [{"email": "a@b.co"}]}, {"to": [{"email": "A@b.co"}]}]},
            ["personalizations.1.to.0.email"],
        ),
        (
            {"personalizations": [{"to": [{"email": f"u{n}@b.co"}]} for n in range(1_001)]},
            ["personalizations"],
        ),
        ({"from": None, "subject": None}, ["from.email", "subject"]),
    ],
)
def test_sendgrid_fake_reports_validation_errors_like_sendgrid(
    fake_sendgrid: FakeSendGrid, change: dict, fields: list[str]
) -> None:
    body = {**VALID, **change}
    status, answer, _ = post(fake_sendgrid, {k: v for k, v in body.items() if v is not None})
    assert status == 400
    assert [e["field"] for e in answer["errors"]] == fields
    assert all(set(e) == {"message", "field", "help"} and e["message"] for e in answer["errors"])
    assert fake_sendgrid.snapshot() == []


def test_sendgrid_fake_auth_size_and_fault_answers() -> None:
    with FakeSendGrid(max_body_bytes=1_000) as fake:
        assert post(fake, VALID, key=None)[0] == 401
        assert post(fake, VALID, key="SG.wrong")[1]["errors"][0]["message"].startswith("The provided authorization")
        assert post(fake, VALID, key="SG.no-mail-send-scope")[0] == 403
        assert post(fake, {**VALID, "subject": "x" * 2_000})[0] == 413
        assert post(fake, b"{broken")[0] == 400
        fake.fail_next(1, 429, reset_in=10)
        status, answer, headers = post(fake, VALID)
        assert status == 429 and answer["errors"][0]["message"] == "too many requests"
        assert headers["X-RateLimit-Remaining"] == "0" and int(headers["X-RateLimit-Reset"]) > 0
        assert post(fake, VALID)[0] == 202
        fake.rate_limit(1, window=60)
        assert [post(fake, VALID)[0] for _ in range(2)] == [202, 429]


def test_slack_fake_auth_and_validation_errors(fake_slack: FakeSlack) -> None:
    client = WebClient(token=fake_slack.token, base_url=fake_slack.api_url)

    def error_of(call, **kwargs) -> str:
        with pytest.raises(SlackApiError) as failure:
            call(**kwargs)
        assert failure.value.response.status_code == 200  # Slack says ok:false with HTTP 200
        return str(failure.value.response["error"])

    assert error_of(WebClient(base_url=fake_slack.api_url).auth_test) == "not_authed"
    assert error_of(WebClient(token="xoxb-bad", base_url=fake_slack.api_url).auth_test) == "invalid_auth"
    assert client.auth_test()["user_id"] == "U0TOCSINBOT"
    assert error_of(client.conversations_create, name="Has Spaces") == "invalid_name_specials"
    assert error_of(client.conversations_create, name="inc.7") == "invalid_name_specials"
    assert error_of(client.conversations_create, name="x" * 81) == "invalid_name_maxlength"
    assert error_of(client.conversations_create, name="---") == "invalid_name_punctuation"
    channel = client.conversations_create(name="inc-7")["channel"]["id"]
    assert error_of(client.conversations_create, name="inc-7") == "name_taken"
    assert error_of(client.chat_postMessage, channel="C-NOPE", text="x") == "channel_not_found"
    assert error_of(client.chat_postMessage, channel=channel, text="x" * 40_001) == "msg_too_long"
    with pytest.warns(UserWarning, match="text"):  # slack_sdk itself warns before sending
        assert error_of(client.chat_postMessage, channel=channel) == "no_text"
    assert error_of(client.chat_postMessage, channel=channel, text="x", attachments=[{"text": "a"}] * 101) == (
        "too_many_attachments"
    )
    with pytest.raises(SlackApiError) as failure:
        client.chat_postMessage(channel=channel, text="x", blocks=[{"type": "divider"}] * 51)
    assert failure.value.response["error"] == "invalid_blocks"
    assert failure.value.response["response_metadata"]["messages"] == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
    assert error_of(client.conversations_invite, channel=channel, users="U01ALICE,U0NOBODY") == "user_not_found"
    assert fake_slack.channels[channel].members == {"U0TOCSINBOT"}  # a refused invite adds nobody
    assert error_of(client.users_lookupByEmail, email="x@y.z") == "users_not_found"
    assert error_of(client.users_info, user="U0NOBODY") == "user_not_found"
    assert client.conversations_info(channel=channel)["channel"]["name"] == "inc-7"
    assert client.conversations_join(channel=channel)["warning"] == "already_in_channel"
    assert error_of(client.pins_add, channel=channel, timestamp="1.000000") == "message_not_found"


def test_sendgrid_fake_compact_log_still_counts_exactly_once() -> None:
    with FakeSendGrid(keep_content=False) as fake:
        body = {**VALID, "personalizations": [{**VALID["personalizations"][0]}, {"to": [{"email": "b@example.com"}]}]}
        assert post(fake, body)[0] == 202
        assert fake.custom_arg_counts("tocsin_message_id") == {"m1": 1, "": 1}
        first, second = fake.snapshot()
        assert (first.to, second.to) == (("a@example.com",), ("b@example.com",))
        assert first.body("text/plain") is None and fake.received_count == 2


PERSONALIZATIONS = [
    {"to": [{"email": "a@example.com"}]},
    {"to": [{"email": "a@example.com", "name": "A"}], "custom_args": {"k": "v"}, "substitutions": {"-n-": "A"}},
    {"to": [{"email": "A@example.com"}]},  # the same address again, in other case
    {"to": [{"email": "b@example.com", "name": 7}]},
    {"to": [{"email": "not an address"}]},
    {"to": [{"name": "no address"}]},
    {"to": [{"email": "c@example.com"}], "cc": [{"email": "c@example.com"}]},
    {"to": [{"email": "d@example.com"}], "bcc": []},
    {"to": [{"email": "e@example.com"}, {"email": "f@example.com"}]},
    {"to": [{"email": "g@example.com"}], "substitutions": {"-n-": 5}, "custom_args": ["x"]},
    {"to": [{"email": "h@example.com"}], "substitutions": {"-big-": "é" * 5001}},
    {"to": [{"email": "i@example.com"}], "custom_args": {"k": "v" * 9999}, "subject": ""},
    {"to": []},
    ["not", "an", "object"],
    {"to": ["a@example.com"]},
]


@pytest.mark.parametrize("checked_before", [False, True])
def test_the_fake_s_quick_check_of_a_personalization_answers_like_the_full_check(checked_before: bool) -> None:
    from tests.fakes.sendgrid_validation import _validate_personalization_fully, validate_personalization

    quick_seen: set[str] | None = set() if checked_before else None
    full_seen: set[str] | None = set() if checked_before else None
    reported = 0
    for index, item in enumerate(PERSONALIZATIONS):
        quick: list[dict[str, object]] = []
        full: list[dict[str, object]] = []
        counted = validate_personalization(index, item, quick, quick_seen)
        assert (counted, quick) == (_validate_personalization_fully(index, item, full, full_seen), full), item
        assert quick_seen == full_seen
        reported += len(quick)
    assert reported >= 10 + checked_before  # the errors are there (one more: the repeated address)
    assert quick_seen is None or "a@example.com" in quick_seen


def bulk(count: int, **overrides: object) -> dict[str, object]:
    items = [
        {"to": [{"email": f"p{n}@example.com", "name": f"P {n}"}], "custom_args": {"m": f"m{n}"},
         "substitutions": {"-n-": f"P {n}"}}
        for n in range(count)
    ]  # fmt: skip
    return {"from": {"email": "n@example.org"}, "subject": "s", "content": [{"type": "text/plain", "value": "t"}],
            "personalizations": items, **overrides}  # fmt: skip


@pytest.mark.parametrize(
    "case",
    [
        "valid", "each alone", "repeated address", "address in other case", "bad address", "name not a string",
        "value not a string", "big substitutions", "subject in one", "to of two", "not an object", "newline",
    ],
)  # fmt: skip
def test_the_fake_s_whole_request_check_answers_like_checking_each_personalization(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tests.fakes.sendgrid_validation as validation

    request = bulk(50)
    items: list[object] = request["personalizations"]  # type: ignore[assignment]
    if case == "each alone":
        request = bulk(1)
    elif case == "repeated address":
        items[7] = items[3]
    elif case == "address in other case":
        items[9] = {"to": [{"email": "P3@EXAMPLE.COM"}]}
    elif case == "bad address":
        items[4] = {"to": [{"email": "p4@"}]}
    elif case == "name not a string":
        items[5] = {"to": [{"email": "x@example.com", "name": ["X"]}]}
    elif case == "value not a string":
        items[6] = {"to": [{"email": "y@example.com"}], "substitutions": {"-n-": 6}}
    elif case == "big substitutions":
        items[8] = {"to": [{"email": "z@example.com"}], "substitutions": {"-n-": "ü" * 5001}}
    elif case == "subject in one":
        items[2] = {"to": [{"email": "s@example.com"}], "subject": ""}
    elif case == "to of two":
        items[1] = {"to": [{"email": "a@example.com"}, {"email": "a@example.com"}]}
    elif case == "not an object":
        items[0] = "p0@example.com"
    elif case == "newline":
        items[10] = {"to": [{"email": "q@example.com\n"}]}
    at_once = validation.validate_mail_send(request)
    monkeypatch.setattr(validation, "_settled_at_once", lambda personalizations, seen: None)
    assert at_once == validation.validate_mail_send(request)
    assert (at_once == []) == (case in ("valid", "each alone"))
