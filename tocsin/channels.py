"""Which channel carries email: SendGrid when an API key is configured, else the outbox folder.

The API key is read from settings and handed to the client only; it is never logged or shown
(`describe_channel` names the channel and host, nothing secret).
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import TYPE_CHECKING

from tocsin.config import Settings, get_settings
from tocsin.errors import InvalidInput

if TYPE_CHECKING:
    from tocsin.notifications.email_sendgrid import SendGridSender
    from tocsin.notifications.outbox import OutboxChannel
    from tocsin.notifications.sendgrid_batches import SenderIdentity

DEFAULT_SENDGRID_HOST = "https://api.sendgrid.com"


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


def describe_channel(settings: Settings | None = None) -> str:
    """For people: which channel and where, never the key."""
    settings = settings or get_settings()
    if settings.sendgrid_api_key and settings.sendgrid_api_key.get_secret_value():
        return f"sendgrid ({(settings.sendgrid_host or DEFAULT_SENDGRID_HOST).rstrip('/')})"
    return f"outbox ({settings.outbox_dir})"
