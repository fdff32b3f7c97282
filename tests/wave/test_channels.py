"""Channel selection from settings: SendGrid with an API key, else the outbox; the key is never shown."""

from __future__ import annotations

import pytest
from tocsin.notifications.email_sendgrid import SendGridSender
from tocsin.notifications.outbox import OutboxChannel

from tests.helpers import ok
from tocsin.core.config import get_settings
from tocsin.messages.channels import describe_channel, email_channel

KEY = "SG.very-secret-key-value"


def test_without_a_key_email_goes_to_the_outbox() -> None:
    channel = email_channel()
    assert isinstance(channel, OutboxChannel)
    assert channel.folder == get_settings().outbox_dir
    assert describe_channel().startswith("outbox (")


def test_with_a_key_email_goes_to_sendgrid_at_the_configured_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_SENDGRID_API_KEY", KEY)
    monkeypatch.setenv("TOCSIN_SENDGRID_HOST", "http://127.0.0.1:9/")
    monkeypatch.setenv("TOCSIN_EMAIL_FROM", "Tocsin Notices <notices@example.org>")
    get_settings.cache_clear()
    channel = email_channel()
    assert isinstance(channel, SendGridSender)
    assert channel.client.host == "http://127.0.0.1:9"
    assert (channel.sender.email, channel.sender.name) == ("notices@example.org", "Tocsin Notices")
    assert describe_channel() == "sendgrid (http://127.0.0.1:9)"
    shown = ok("config", "--json").stdout
    assert KEY not in shown and KEY not in describe_channel()


def test_a_sender_address_without_an_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from tocsin.core.errors import InvalidInput

    monkeypatch.setenv("TOCSIN_SENDGRID_API_KEY", KEY)
    monkeypatch.setenv("TOCSIN_EMAIL_FROM", "Tocsin")
    get_settings.cache_clear()
    with pytest.raises(InvalidInput, match="has no address"):
        email_channel()
