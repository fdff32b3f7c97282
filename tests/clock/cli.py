"""Running `tocsin obligations - --json` in-process on a document, and reading its answer."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import run_cli


def report(document: dict[str, Any]) -> dict[str, Any]:
    result = run_cli("obligations", "-", "--json", stdin=json.dumps(document))
    assert result.exit_code == 0, result.stderr
    output = result.json()
    owed = {item["rule"] for item in output["obligations"]}
    quiet = {item["rule"] for item in output["not_triggered"]}
    assert not owed & quiet, f"rules both owed and not triggered: {owed & quiet}"
    return output


def items(output: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [item for item in output["obligations"] if item["rule"] == rule]


def one(output: dict[str, Any], rule: str) -> dict[str, Any]:
    found = items(output, rule)
    reasons = {item["rule"]: item["reason"] for item in output["not_triggered"]}
    assert len(found) == 1, f"{rule}: {len(found)} items ({reasons.get(rule, 'owed')})"
    return found[0]


def reason(output: dict[str, Any], rule: str) -> str:
    """The not-triggered reason of `rule` (fails if the rule is owed)."""
    reasons = {item["rule"]: item["reason"] for item in output["not_triggered"]}
    assert rule in reasons, f"{rule} is owed: {items(output, rule)}"
    return reasons[rule]


def deadline(output: dict[str, Any], rule: str) -> str | None:
    return one(output, rule)["deadline_utc"]
