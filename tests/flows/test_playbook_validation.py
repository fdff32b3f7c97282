"""Playbooks are validated at load: an error names the file, the line, the step and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from tocsin.playbooks.loader import built_in_paths, parse_playbook

from tests.helpers import ok, run_cli
from tocsin.core.errors import InvalidInput

HEADER = "name: test\nversion: 1\nkind: breach\ntitle: Test\nroles: [commander, legal]\nsteps:\n"


def check(steps: str) -> str:
    with pytest.raises(InvalidInput) as raised:
        parse_playbook(HEADER + steps, "pb.yaml")
    return str(raised.value)


def test_built_in_playbooks_are_valid() -> None:
    names = set(built_in_paths())
    assert {"data-breach", "ransomware", "social-crisis"} <= names
    listed = ok("playbooks", "--json").json()
    assert {p["name"] for p in listed} == names
    for path in built_in_paths().values():
        assert "is valid" in ok("playbook", "check", str(path)).stdout


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            "  - {id: a, type: compute_obligations}\n  - {id: b, type: teleport}\n",
            "pb.yaml:8 step b field type: unknown step type 'teleport'",
        ),
        (
            "  - id: a\n    type: draft\n    template: regulator_notise\n    audience: regulator\n",
            "pb.yaml:9 step a field template: template 'regulator_notise' does not exist",
        ),
        (
            "  - id: a\n    type: set_status\n    status: investigating\n    when: {fact: personal_data_breech}\n",
            "pb.yaml:10 step a field when.fact: unknown fact 'personal_data_breech'",
        ),
        (
            "  - id: a\n    type: set_status\n    status: investigating\n"
            "    when: {fact: personal_data_breach, gt: 1, equals: 2}\n",
            "step a field when: use one of equals, gt, gte, includes_any",
        ),
        (
            "  - id: a\n    type: escalate\n    role: legal\n    message: internal_brief\n    ack_timeout: soon\n",
            "pb.yaml:11 step a field ack_timeout: 'soon' is not a duration",
        ),
        (
            "  - id: a\n    type: escalate\n    role: janitor\n    message: internal_brief\n",
            "pb.yaml:9 step a field role",
        ),
        ("  - {id: a, type: compute_obligations, colour: red}\n", "step a field colour: unknown field"),
        ("  - {id: a, type: send, draft: nothing, channel: email}\n", "'nothing' is not an earlier draft step"),
        (
            "  - {id: a, type: compute_obligations}\n  - {id: a, type: compute_obligations}\n",
            "step id 'a' is used twice",
        ),
        (
            "  - id: a\n    type: wait_until\n    at: {deadline: eu.gdpr.art99}\n",
            "pb.yaml:9 step a field at.deadline: unknown rule 'eu.gdpr.art99'",
        ),
        ("  - {id: a, type: wait_until, event: lunch_time}\n", "step a field event: unknown clock event 'lunch_time'"),
    ],
    ids=[
        "step-type",
        "template",
        "condition-fact",
        "condition-shape",
        "duration",
        "role",
        "extra-field",
        "draft-reference",
        "duplicate-id",
        "rule-id",
        "event",
    ],
)
def test_bad_playbooks_are_refused_with_file_line_step_and_field(steps: str, expected: str) -> None:
    assert expected in check(steps)


def test_cli_check_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEADER + "  - {id: a, type: teleport}\n")
    result = run_cli("playbook", "check", str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}:7 step a field type: unknown step type")
    assert result.stderr.count("\n") == 1
    missing = run_cli("playbook", "check", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(HEADER + "  - {id: a, type: [\n")
    assert "invalid YAML" in run_cli("playbook", "check", str(broken)).stderr


def test_an_input_kind_outside_text_and_email_is_refused_with_its_line() -> None:
    text = HEADER.replace("steps:\n", "inputs:\n  - {name: dpo_phone, description: Phone, kind: phone}\nsteps:\n")
    with pytest.raises(InvalidInput) as raised:
        parse_playbook(text + "  - {id: a, type: compute_obligations}\n", "pb.yaml")
    assert "pb.yaml:7" in str(raised.value) and "kind" in str(raised.value)
    assert "'text' or 'email'" in str(raised.value)
