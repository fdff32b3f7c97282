"""Which channel carries what: email through SendGrid when an API key is configured, chat through Slack when a
token is configured, else both to the outbox folder.

Keys and tokens are read from settings and handed to the clients only; they are never logged or shown
(`describe_channel` names the channel and host, nothing secret).
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import TYPE_CHECKING

from tocsin.core.config import Settings, get_settings
from tocsin.core.errors import InvalidInput
from tocsin.core.redact import redact_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from tocsin.notifications.email_sendgrid import SendGridSender
    from tocsin.notifications.outbox import OutboxChannel
    from tocsin.notifications.sendgrid_batches import SenderIdentity
    from tocsin.notifications.slack import SlackChannel

DEFAULT_SENDGRID_HOST = "https://api.sendgrid.com"
# RFC 2606 reserves `.invalid` for names that must never resolve: the built-in playbooks' stand-in filing address.
PLACEHOLDER_FILING_ADDRESS = "filing@regulator.invalid"
FILING_ADDRESS_SETTING = "TOCSIN_REGULATOR_EMAILS or the playbook input regulator_email"


def sender_identity(settings: Settings) -> SenderIdentity:
    """`email_from` ("Name <address>" or a bare address) as SendGrid's from identity."""
    from tocsin.notifications.sendgrid_batches import SenderIdentity

    name, address = parseaddr(settings.email_from)
    if "@" not in address:
        raise InvalidInput(f"email_from {settings.email_from!r} has no address", where="TOCSIN_EMAIL_FROM")
    return SenderIdentity(address, name or None)


def email_channel(settings: Settings | None = None, *, workers: int = 1) -> SendGridSender | OutboxChannel:
    """SendGridSender when TOCSIN_SENDGRID_API_KEY is set (host TOCSIN_SENDGRID_HOST), else the outbox."""
    settings = settings or get_settings()
    key = settings.sendgrid_api_key.get_secret_value() if settings.sendgrid_api_key else ""
    if key:
        from tocsin.notifications.email_sendgrid import SendGridSender

        host = (settings.sendgrid_host or DEFAULT_SENDGRID_HOST).rstrip("/")
        return SendGridSender(key, sender_identity(settings), host=host, workers=workers)
    from tocsin.notifications.outbox import OutboxChannel

    return OutboxChannel(settings.outbox_dir, from_address=settings.email_from)


def email_via_sendgrid(settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    return bool(settings.sendgrid_api_key and settings.sendgrid_api_key.get_secret_value())


def describe_channel(settings: Settings | None = None) -> str:
    """For people: which channel and where, never the key."""
    settings = settings or get_settings()
    if settings.sendgrid_api_key and settings.sendgrid_api_key.get_secret_value():
        return f"sendgrid ({redact_url((settings.sendgrid_host or DEFAULT_SENDGRID_HOST).rstrip('/'))})"
    return f"outbox ({settings.outbox_dir})"


def slack_channel(
    settings: Settings | None = None, *, sleep: Callable[[float], None] | None = None
) -> SlackChannel | None:
    """The Slack adapter when TOCSIN_SLACK_TOKEN is set (TOCSIN_SLACK_BASE_URL for another host), else None."""
    settings = settings or get_settings()
    token = settings.slack_token.get_secret_value() if settings.slack_token else ""
    if not token:
        return None
    from slack_sdk import WebClient

    from tocsin.notifications.slack import SlackChannel

    options = {"sleep": sleep} if sleep is not None else {}
    return SlackChannel(token, base_url=settings.slack_base_url or WebClient.BASE_URL, **options)


def is_placeholder_address(address: str) -> bool:
    """An address in the reserved `.invalid` domain: no provider can deliver it (SendGrid refuses it)."""
    domain = parseaddr(address)[1].rpartition("@")[2].rstrip(".").lower()
    return domain == "invalid" or domain.endswith(".invalid")


def placeholder_refusal(address: str) -> str:
    """Why `address` is not sent through SendGrid (the outbox keeps it: drills file notices there)."""
    return (
        f"{address} is a placeholder address (.invalid) that SendGrid refuses: configure the regulator's "
        f"filing address ({FILING_ADDRESS_SETTING}), or file the notice through the regulator's portal"
    )


def regulator_address(settings: Settings, rules: Iterable[str], given: str | None) -> str | None:
    """The filing address for a notice that discharges `rules`: a configured address for the rule (exact id,
    else the longest configured prefix), else the playbook input, else None."""
    configured = settings.regulator_emails
    for rule in rules:
        matches = [key for key in configured if rule == key or rule.startswith(key.rstrip(".") + ".")]
        if matches:
            return configured[max(matches, key=len)]
    return given or None
