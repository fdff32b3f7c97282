"""Every worked scenario of deadline-examples.yaml, checked through `tocsin obligations --json`.

The shared reference file (../shared/reference/ beside the repo) is the source of truth when
present; the project keeps its own copy under tests/clock/fixtures so the suite never
depends on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clock.scenarios import FIXTURE_EXAMPLES, REPO, SHARED_EXAMPLES, Case, load_cases, problems
from tests.helpers import run_cli

FIXTURE_CASES = load_cases(FIXTURE_EXAMPLES)
SHARED_CASES = load_cases(SHARED_EXAMPLES) if SHARED_EXAMPLES.is_file() else []


def _cli_json(case: Case, tmp_path: Path) -> dict:
    path = tmp_path / f"{case.name.replace(':', '_')}.json"
    path.write_text(json.dumps(case.document), encoding="utf-8")
    result = run_cli("obligations", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


@pytest.mark.parametrize("case", FIXTURE_CASES, ids=lambda case: case.name)
def test_fixture_scenario_through_cli(case: Case, tmp_path: Path) -> None:
    assert case.obligations, "a scenario without expected obligations checks nothing"
    assert problems(case, _cli_json(case, tmp_path)) == []


@pytest.mark.skipif(not SHARED_EXAMPLES.is_file(), reason=f"shared reference folder absent: {SHARED_EXAMPLES}")
@pytest.mark.parametrize("case", SHARED_CASES, ids=lambda case: case.name)
def test_shared_reference_scenario_through_cli(case: Case, tmp_path: Path) -> None:
    assert problems(case, _cli_json(case, tmp_path)) == []


def test_fixture_copy_covers_every_shared_scenario() -> None:
    if not SHARED_CASES:
        pytest.skip(f"shared reference folder absent: {SHARED_EXAMPLES}")
    assert {case.name for case in SHARED_CASES} <= {case.name for case in FIXTURE_CASES}


def test_output_contract_shape(tmp_path: Path) -> None:
    case = next(case for case in FIXTURE_CASES if case.name == "S07")
    output = _cli_json(case, tmp_path)
    assert set(output) == {"obligations", "not_triggered"}
    for item in output["obligations"]:
        assert {"rule", "recipient", "deadline_kind", "deadline_utc", "citation", "explanation"} <= set(item)
        assert item["deadline_utc"] is None or (len(item["deadline_utc"]) == 20 and item["deadline_utc"].endswith("Z"))
        assert item["citation"] and item["explanation"]
    for item in output["not_triggered"]:
        assert set(item) == {"rule", "reason"} and item["reason"]


def _subprocess_json(case: Case, tmp_path: Path) -> dict:
    path = tmp_path / "input.yaml"
    path.write_text(json.dumps(case.document), encoding="utf-8")
    tocsin = Path(sys.executable).with_name("tocsin")
    env = {**os.environ, "TOCSIN_TIMEZONE": "UTC"}
    done = subprocess.run(
        [str(tocsin), "obligations", str(path), "--json"], capture_output=True, text=True, env=env, cwd=REPO, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", ["S17", "S31"])
def test_real_subprocess(name: str, tmp_path: Path) -> None:
    case = next(case for case in FIXTURE_CASES if case.name == name)
    assert problems(case, _subprocess_json(case, tmp_path)) == []


def test_real_subprocess_refuses_bad_input_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("entity: {name: X}\nfacts:\n  personal_data_breech: true\n", encoding="utf-8")
    tocsin = Path(sys.executable).with_name("tocsin")
    done = subprocess.run([str(tocsin), "obligations", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"error: {path}:3: facts.personal_data_breech: unknown key (did you mean personal_data_breach?)"
    )
