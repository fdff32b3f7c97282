from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from tocsin.notifications.base import Channel
from tocsin.notifications.message import ChatMessage, EmailMessage
from tocsin.notifications.outbox import OutboxChannel, message_key


class Ticking:
    def __init__(self) -> None:
        self.moment = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(milliseconds=1)
        return self.moment


def email(message_id: str = "notice-1/ada", **changes: object) -> EmailMessage:
    fields: dict[str, object] = {
        "message_id": message_id,
        "to": "ada@example.com",
        "name": "Ada Lovelace",
        "subject": "Important notice about your account",
        "text": "Dear -name-,\nyour data was exposed.",
        "html": "<p>Dear -name-,</p><p>your data was exposed.</p>",
        "custom_args": {"incident": "INC-7"},
        "headers": {"X-Incident": "INC-7"},
        "substitutions": {"-name-": "Ada"},
    }
    fields.update(changes)
    return EmailMessage(**fields)  # type: ignore[arg-type]


def test_email_file_parses_back_with_the_stdlib_parser(tmp_path: Path) -> None:
    outbox = OutboxChannel(tmp_path, from_address="Tocsin <noreply@tocsin.example>", now=Ticking(), fsync=False)
    [result] = outbox.send([email()])
    assert result.accepted and result.provider_id and result.provider_id.endswith(".eml")
    parsed = message_from_bytes((tmp_path / result.provider_id).read_bytes(), policy=policy.default)
    assert parsed["To"] == "Ada Lovelace <ada@example.com>"
    assert parsed["From"] == "Tocsin <noreply@tocsin.example>"
    assert parsed["X-Tocsin-Message-Id"] == "notice-1/ada"
    assert parsed["X-Incident"] == "INC-7"
    assert json.loads(parsed["X-Tocsin-Custom-Args"]) == {"incident": "INC-7"}
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert plain is not None and plain.get_content() == "Dear Ada,\nyour data was exposed.\n"
    assert html is not None and "<p>Dear Ada,</p>" in html.get_content()


def test_text_only_email_is_a_single_part(tmp_path: Path) -> None:
    outbox = OutboxChannel(tmp_path, now=Ticking(), fsync=False)
    [result] = outbox.send([email(html=None, substitutions={})])
    parsed = message_from_bytes((tmp_path / str(result.provider_id)).read_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "text/plain"
    assert "Dear -name-" in parsed.get_content()


def test_chat_message_is_readable_json(tmp_path: Path) -> None:
    outbox = OutboxChannel(tmp_path, now=Ticking(), fsync=False)
    blocks = ({"type": "section", "text": {"type": "mrkdwn", "text": "*SEV2* declared"}},)
    [result] = outbox.send([ChatMessage(message_id="chat-1", channel="#inc-7", text="SEV2", blocks=blocks)])
    document = json.loads((tmp_path / str(result.provider_id)).read_text())
    assert document["channel"] == "#inc-7" and document["user"] is None
    assert document["blocks"] == [dict(blocks[0])]
    assert document["written_at"].startswith("2026-11-22T09:30:00.001")


def test_resending_the_same_id_writes_no_second_file_even_after_a_restart(tmp_path: Path) -> None:
    outbox = OutboxChannel(tmp_path, now=Ticking(), fsync=False)
    first = outbox.send([email(), email("notice-1/bob", to="bob@example.com")])
    again = outbox.send([email(subject="changed")])
    restarted = OutboxChannel(tmp_path, now=Ticking(), fsync=False).send([email()])
    files = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert len(files) == 2, files
    assert again[0].provider_id == first[0].provider_id == restarted[0].provider_id
    assert again[0].attempts == 0  # nothing written the second time
    assert not [name for name in files if name.startswith(".tmp-")]


def test_file_names_sort_by_writing_order_and_are_unique_per_id(tmp_path: Path) -> None:
    outbox = OutboxChannel(tmp_path, now=Ticking(), fsync=False)
    ids = ["z-last-id", "a-first-id", "m/slash id", "m_slash_id"]
    results = outbox.send([email(i) for i in ids])
    names = [str(r.provider_id) for r in results]
    assert names == sorted(names)  # written in this order
    assert len(set(names)) == 4
    assert message_key("m/slash id") != message_key("m_slash_id")
    assert all(Path(n).name == n and "/" not in n for n in names)


def test_outbox_satisfies_the_channel_protocol(tmp_path: Path) -> None:
    assert isinstance(OutboxChannel(tmp_path), Channel)
