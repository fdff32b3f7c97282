"""Faithful local fakes of the external HTTP APIs Tocsin talks to (Slack Web API, SendGrid v3 Mail Send).

They listen on 127.0.0.1 with an ephemeral port, validate requests the way the real services do, record
what they accepted, and can be told to fail (fault injection, rate limiting). Use them as context managers:

    with FakeSendGrid() as sendgrid:
        SendGridAPIClient("SG.fake-key", host=sendgrid.url)...

From bench/ scripts, put the repository root on sys.path first, then `from tests.fakes import ...`.
"""

from tests.fakes.http_base import Fault, FaultPlan, WindowRateLimiter
from tests.fakes.sendgrid_server import FakeSendGrid, ReceivedEmail
from tests.fakes.slack_server import FakeSlack

__all__ = ["FakeSendGrid", "FakeSlack", "Fault", "FaultPlan", "ReceivedEmail", "WindowRateLimiter"]
