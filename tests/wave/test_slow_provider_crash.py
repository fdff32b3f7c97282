"""A wave killed (SIGKILL) while SendGrid holds its request: the fake takes each request at once and answers
1.5 s later, the test kills `tocsin notify` inside that window, and reruns the wave. Nothing reaches the fake
twice without a decision; exactly the in-flight request's rows are held; a resend decision sends exactly those
once more, a skip marks them (SQLite and PostgreSQL; the CLI doors are exercised in test_in_doubt)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter

import pytest
from tocsin.models.enums import InDoubtDecision
from tocsin.notifications.message import MESSAGE_ID_ARG

from tests.fakes import FakeSendGrid
from tests.wave.conftest import REPO_ROOT, declare_incident, draft_for
from tests.wave.test_kill_and_resume import rows_with_status, wait_for, write_recipients
from tests.wave.test_wave import run, sender_for
from tocsin.core.acting import Actor, Via
from tocsin.wave import actions

RECIPIENTS = 3000  # three requests of 1,000
CARL = Actor("carl", Via.local)  # comms: may send the wave, so may decide


@pytest.mark.parametrize("decision", ["resend", "skip"])
def test_a_kill_mid_request_holds_exactly_that_request(wave_db: str, tmp_path, decision: str) -> None:
    incident = declare_incident()
    draft = draft_for(incident)
    path = write_recipients(tmp_path / "recipients.csv", RECIPIENTS)
    with FakeSendGrid(keep_content=False) as fake:
        env = {**os.environ, "TOCSIN_DATABASE_URL": wave_db, "TOCSIN_SENDGRID_API_KEY": "SG.fake-key",
               "TOCSIN_SENDGRID_HOST": fake.url, "PYTHONPATH": str(REPO_ROOT)}  # fmt: skip
        notify = ["notify", str(incident), "--draft", str(draft), "--recipients", str(path), "--as", "carl"]
        fake.answer_delay = 1.5  # taken at once, answered 1.5 s later
        first = subprocess.Popen([sys.executable, "-m", "tocsin", *notify], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)  # fmt: skip
        try:
            # the second request leaves only once the first one's answer is recorded: kill while it is held
            wait_for(lambda: fake.accepted_requests >= 2 or first.poll() is not None, 60, "a second request")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        assert first.returncode == -signal.SIGKILL, first.stderr.read() if first.stderr else ""
        assert fake.accepted_requests == 2  # the sender died with the wave: nothing left after the kill
        in_flight = {m for m, n in fake.custom_arg_counts(MESSAGE_ID_ARG).items() if n}
        assert len(in_flight) == 2000 and rows_with_status("accepted") == 1000  # the first answer was recorded

        fake.answer_delay = 0.0
        resumed = run(incident, [draft], path, sender_for(fake))  # the rerun, as `tocsin notify` makes it
        assert (resumed.held, resumed.skipped) == (1000, 0)  # exactly the request in flight
        assert (resumed.sent, resumed.already_sent) == (RECIPIENTS - 2000, 1000)
        per_message = fake.custom_arg_counts(MESSAGE_ID_ARG)
        assert len(per_message) == RECIPIENTS and set(per_message.values()) == {1}  # no duplicate, no decision
        assert actions.in_doubt(CARL, incident)["held"] == 1000

        decided = actions.resolve_in_doubt(CARL, incident, InDoubtDecision(decision), reason="test",
                                           channel=sender_for(fake))  # fmt: skip
        per_message = fake.custom_arg_counts(MESSAGE_ID_ARG)
    twice = {m for m, n in per_message.items() if n == 2}
    if decision == "resend":
        assert (decided["resent_in_doubt"], decided["sent"]) == (1000, 1000)
        assert len(twice) == 1000 and set(Counter(per_message.values())) == {1, 2}  # exactly those, once more
        assert rows_with_status("accepted") == RECIPIENTS
    else:
        assert decided["skipped"] == 1000 and not twice
        assert rows_with_status("skipped") == 1000 and rows_with_status("accepted") == RECIPIENTS - 1000
    assert actions.in_doubt(CARL, incident)["held"] == 0
