"""A sample breach set up through the CLI, as a commander would: incident, people, roles, inputs.

alice declares and commands it; claire is the DPO; lena and bob hold legal (bob also drafts: the four-eyes
case); carl is comms. Everyone is put in the directory first (roles go to known people only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.helpers import add_people, ok

AWARE = "2026-11-20T10:00:00+01:00"
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-breach.yaml"

REGULATOR_INPUTS: dict[str, Any] = {
    "nature_of_breach": "A stolen staff password was used to copy part of the customer database on 19 November.",
    "categories_of_data_subjects": ["customers"],
    "categories_of_data": ["names", "email addresses", "order history"],
    "approx_records": 112000,
    "likely_consequences": "Targeted phishing that quotes real orders.",
    "measures_taken": "The account was disabled and every staff password reset.",
}
CUSTOMER_INPUTS: dict[str, Any] = {
    "nature_of_breach": "Someone used a stolen staff password to copy part of our customer database.",
    "categories_of_data": ["your name", "your email address"],
    "likely_consequences": "You may receive fake emails that mention a real order.",
    "measures_taken": "We locked the misused account and changed every staff password.",
    "what_you_can_do": "Do not click links in emails about orders; we never ask for your password.",
}


def declare_sample_breach(tmp_path: Path, *, locale: str = "fr") -> str:
    facts = tmp_path / "facts.yaml"
    facts.write_text(SAMPLE.read_text().replace("AWARE_AT", AWARE))
    ok("people", "add", "claire", "--name", "Claire Martin", "--email", "dpo@example.org")
    add_people("alice", "lena", "bob", "carl")
    incident = ok(
        "declare",
        "--title",
        "Customer DB exposed",
        "--aware-at",
        AWARE,
        "--commander",
        "alice",
        "--facts",
        str(facts),
        "--locale",
        locale,
        "--as",
        "alice",
        "--json",
    ).json()
    ident = str(incident["id"])
    ok("assign", ident, "dpo", "claire", "--as", "alice")
    ok("assign", ident, "legal", "lena", "--as", "alice")
    ok("assign", ident, "legal", "bob", "--as", "alice")  # bob drafts, and also holds legal: the four-eyes case
    ok("assign", ident, "comms", "carl", "--as", "alice")
    return ident


def current_sha256(draft_id: int | str) -> str:
    """What a reviewer reads before approving: the draft's current hash (`tocsin draft show`)."""
    return ok("draft", "show", str(draft_id), "--json").json()["sha256"]


def inputs_file(tmp_path: Path, inputs: dict[str, Any], name: str = "inputs.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(inputs, allow_unicode=True))
    return str(path)


def draft(incident: str, template: str, inputs: str, *extra: str, actor: str = "bob") -> dict[str, Any]:
    return ok("draft", incident, template, "--vars", inputs, "--as", actor, "--json", *extra).json()


def timeline_actions(incident: str) -> list[tuple[str, str, dict[str, Any]]]:
    shown = ok("show", incident, "--json").json()
    return [(e["actor"], e["action"], e["payload"]) for e in shown["timeline"]]
