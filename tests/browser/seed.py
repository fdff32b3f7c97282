"""The console's data, set up through the CLI as the response team would: people with passwords, a breach whose
facts trigger GDPR Art. 33 (and more), a customer notice approved and sent to a few recipients (a notice wave),
and, per test, a regulator notice awaiting legal's approval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from tests.drafts.scenario import CUSTOMER_INPUTS, REGULATOR_INPUTS, SAMPLE
from tests.helpers import ok

# Who is who: lena and dora hold legal, bob (legal too) writes the drafts, carl is comms (not legal), alice
# commands. Only those who log in get a password (an argon2 hash costs about half a second of CPU).
PASSWORDS = {
    "alice": "alice-console-pw-1",
    "lena": "lena-console-pw-1",
    "dora": "dora-console-pw-1",
    "carl": "carl-console-pw-1",
}
NAMES = {
    "alice": "Alice Moreau",
    "lena": "Lena Fischer",
    "dora": "Dora Lind",
    "bob": "Bob Keller",
    "carl": "Carl Jansen",
    "claire": "Claire Martin",
}
RECIPIENTS = "email,name,locale\n" + "".join(f"c{n}@example.org,Client {n},en\n" for n in range(1, 6))


@dataclass(frozen=True)
class Seeded:
    incident: int  # the breach: GDPR Art. 33 and others running, a wave sent
    approved_draft: int  # the customer notice legal approved and that went out in the wave
    carl_token: str  # an API token of a person who is not legal


def aware_at(hours_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(timespec="seconds")


def _write(folder: Path, name: str, content: Any) -> str:
    path = folder / name
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True))
    return str(path)


def set_password(handle: str, password: str) -> None:
    ok("people", "passwd", handle, "--password-stdin", stdin=password + "\n")


def seed(folder: Path) -> Seeded:
    """The shared data of one console server (run with TOCSIN_HOME / TOCSIN_DATABASE_URL set to it)."""
    folder.mkdir(parents=True, exist_ok=True)
    for handle, name in NAMES.items():
        ok("people", "add", handle, "--name", name, "--email", f"{handle}@example.org", "--timezone", "Europe/Paris")
    for handle, password in PASSWORDS.items():
        set_password(handle, password)
    facts = _write(folder, "facts.yaml", SAMPLE.read_text().replace("AWARE_AT", aware_at(5)))
    incident = ok(
        "declare", "--title", "Customer DB exposed", "--severity", "SEV1", "--aware-at", aware_at(5),
        "--commander", "alice", "--facts", facts, "--locale", "en", "--json", "--as", "alice",
    ).json()["id"]  # fmt: skip
    for role, handle in (("dpo", "claire"), ("legal", "lena"), ("legal", "dora"), ("legal", "bob"), ("comms", "carl")):
        ok("assign", str(incident), role, handle, "--as", "alice")
    customer = draft_in_review(folder, incident, "customer_notice", CUSTOMER_INPUTS)
    reviewed = ok("draft", "show", str(customer), "--json").json()["sha256"]
    ok("approve", str(customer), "--hash", reviewed, "--as", "dora")  # exactly the text dora read
    ok("notify", str(incident), "--draft", str(customer), "--recipients", _write(folder, "affected.csv", RECIPIENTS),
       "--as", "alice")  # fmt: skip
    token = ok("token", "create", "carl", "--name", "browser tests", "--as", "alice", "--json").json()["token"]
    return Seeded(incident=incident, approved_draft=customer, carl_token=token)


def draft_in_review(folder: Path, incident: int, template: str = "regulator_notice", inputs: Any = None) -> int:
    """A draft written by bob and sent to legal; returns its id."""
    variables = _write(folder, f"{template}-inputs.yaml", inputs if inputs is not None else REGULATOR_INPUTS)
    made = ok("draft", str(incident), template, "--vars", variables, "--as", "bob", "--json").json()
    ok("review", str(made["id"]), "--as", "bob")
    return int(made["id"])
