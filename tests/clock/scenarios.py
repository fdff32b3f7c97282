"""Expanding the worked scenarios (deadline-examples.yaml) into single CLI checks.

File header conventions: `input.case_*` are merged over the rest of `input` and checked
against `expected.case_*`; `input.variant_*` override entity/facts/events keys and are
checked against `expected.variant_expected`; `expected.expected_with_include_proposed_true`
is the same input with `options.include_proposed: true`; `expected.variants` gives results
per `entity.cn_operator_type` value.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SHARED_EXAMPLES = REPO.parent / "shared" / "reference" / "deadline-examples.yaml"
FIXTURE_EXAMPLES = Path(__file__).with_name("fixtures") / "deadline_examples.yaml"
COMPARED = (
    "deadline_kind",
    "deadline_utc",
    "alt_deadline_utc",
    "strict_deadline_utc",
    "retain_until_local_date",
    "latest_if_previous_submitted_at_deadline",
    "extended_deadline_utc_if_good_cause_filed",
    "deadline_date_local",
)
SECTIONS = ("entity", "facts", "events", "options")


@dataclass
class Case:
    name: str
    document: dict[str, Any]
    obligations: list[dict[str, Any]]
    not_triggered: list[dict[str, Any]] = field(default_factory=list)


def _vocabulary() -> dict[str, str]:
    from tocsin.clock import load_rules

    vocabulary = load_rules().table.vocabulary
    where = {key: "entity" for key in vocabulary.entity}
    where.update({key: "facts" for key in vocabulary.facts})
    where.update({key: "events" for key in vocabulary.events})
    where.update({key: "options" for key in vocabulary.options})
    return where


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    sections = _vocabulary()
    for key, value in override.items():
        if key in SECTIONS or key in ("processor", "regimes_in_scope_only"):
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key].update(value)
            else:
                merged[key] = value
        else:  # a bare key: file it under its vocabulary section
            section = sections.get(key) or ("events" if key.startswith("submitted:") else "facts")
            merged.setdefault(section, {})[key] = value
    return merged


def _expected(value: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if isinstance(value, list):
        return value, []
    return list(value.get("obligations", [])), list(value.get("not_triggered", []))


def expand(scenario: dict[str, Any]) -> list[Case]:
    base = {
        key: value
        for key, value in scenario["input"].items()
        if key in (*SECTIONS, "processor", "regimes_in_scope_only")
    }
    expected = scenario.get("expected", {})
    sid = scenario["id"]
    cases_in = {key: value for key, value in scenario["input"].items() if key.startswith("case_")}
    cases: list[Case] = []
    if cases_in:
        for key, override in cases_in.items():
            obligations, not_triggered = _expected(expected.get(key, {}))
            cases.append(Case(f"{sid}:{key}", _merge(base, override), obligations, not_triggered))
    else:
        obligations, not_triggered = _expected(expected)
        cases.append(Case(sid, base, obligations, not_triggered))
    for key, override in scenario["input"].items():
        if key.startswith("variant_") and "variant_expected" in expected:
            obligations, not_triggered = _expected(expected["variant_expected"])
            cases.append(Case(f"{sid}:{key}", _merge(base, override), obligations, not_triggered))
    if "expected_with_include_proposed_true" in expected:
        obligations, not_triggered = _expected(expected["expected_with_include_proposed_true"])
        document = _merge(base, {"options": {"include_proposed": True}})
        cases.append(Case(f"{sid}:include_proposed", document, obligations, not_triggered))
    variants = expected.get("variants")
    if isinstance(variants, dict):
        for value, result in variants.items():
            obligations, not_triggered = _expected(result)
            document = _merge(base, {"entity": {"cn_operator_type": value}})
            cases.append(Case(f"{sid}:{value}", document, obligations, not_triggered))
    elif isinstance(variants, list):
        for item in variants:
            value = item.get("cn_operator_type") or item.get("entity", {}).get("cn_operator_type")
            obligations, not_triggered = _expected(item)
            document = _merge(base, {"entity": {"cn_operator_type": value}})
            cases.append(Case(f"{sid}:{value}", document, obligations, not_triggered))
    return cases


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [case for scenario in data["scenarios"] for case in expand(scenario)]


def problems(case: Case, output: dict[str, Any]) -> list[str]:
    """What in the CLI's --json output contradicts the expected result (empty: all good)."""
    found: list[str] = []
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for item in output["obligations"]:
        by_rule.setdefault(item["rule"], []).append(item)
    quiet = {item["rule"] for item in output["not_triggered"]}
    if set(by_rule) & quiet:
        found.append(f"rules both owed and not triggered: {sorted(set(by_rule) & quiet)}")
    for wanted in case.obligations:
        items = by_rule.get(wanted["rule"])
        if not items:
            reason = next((n["reason"] for n in output["not_triggered"] if n["rule"] == wanted["rule"]), "absent")
            found.append(f"{wanted['rule']}: missing ({reason})")
            continue
        keys = [key for key in COMPARED if key in wanted]
        if not any(all(item.get(key) == wanted[key] for key in keys) for item in items):
            got = [{key: item.get(key) for key in keys} for item in items]
            found.append(f"{wanted['rule']}: expected {json.dumps({k: wanted[k] for k in keys})}, got {got}")
    for banned in case.not_triggered:
        if banned["rule"] in by_rule:
            found.append(f"{banned['rule']}: must not be triggered ({banned.get('reason', '')})")
        elif banned["rule"] not in quiet:
            found.append(f"{banned['rule']}: missing from not_triggered")
    return found
