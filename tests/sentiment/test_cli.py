import json
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime, timedelta

import pytest
from tocsin.sentiment.synthetic import RoutineProfile, Surge, mention_stream
from typer.testing import CliRunner

from tocsin.cli import commands  # noqa: F401  (registers the sub-apps)
from tocsin.cli.app import app
from tocsin.core.errors import InvalidInput

START = datetime(2026, 3, 2, tzinfo=UTC)
SURGE_AT = START + timedelta(days=2, hours=14, minutes=3)


@pytest.fixture(scope="module")
def crisis_file(tmp_path_factory):
    """Two and a half days of routine mentions, then a crisis; a few bad lines mixed in."""
    path = tmp_path_factory.mktemp("sentiment") / "mentions.jsonl"
    surge = Surge(SURGE_AT, peak_per_hour=600, ramp_minutes=10, hours=3)
    lines = [json.dumps(r) for r in mention_stream(START, 2.75, RoutineProfile(per_hour=30), (surge,), seed=4)]
    lines[1:1] = [
        "{broken",
        json.dumps({"id": "p", "created_at": "2026-03-02T00:00:00Z", "text": "x", "visibility": "private"}),
    ]
    lines[10], lines[11] = lines[11], lines[10]  # out of order
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def parse_z(text: str) -> datetime:
    assert text.endswith("Z")
    return datetime.fromisoformat(text)


def test_scan_json_contract(crisis_file):
    result = CliRunner().invoke(app, ["sentiment", "scan", str(crisis_file), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"alerts", "stats"}
    kinds = [a["kind"] for a in payload["alerts"]]
    assert "volume" in kinds and "negativity" in kinds
    for alert in payload["alerts"]:
        assert {
            "kind",
            "window_start",
            "detected_at",
            "count",
            "baseline",
            "score",
            "negative_share",
            "sample_ids",
        } <= set(alert)
        detected = parse_z(alert["detected_at"])
        assert parse_z(alert["window_start"]) < detected
        assert SURGE_AT < detected <= SURGE_AT + timedelta(minutes=20)
        assert detected.timestamp() % 300 == 0  # the end of the bin that fired
        assert 0 < len(alert["sample_ids"]) <= 10
    stats = payload["stats"]
    assert stats["malformed"] == 1 and stats["not_public"] == 1
    assert stats["bin_seconds"] == 300 and stats["first"].endswith("Z")
    assert stats["alerts"]["volume"] == kinds.count("volume")


def test_scan_reports_bad_lines_with_numbers_on_stderr(crisis_file):
    result = CliRunner().invoke(app, ["sentiment", "scan", str(crisis_file)])
    assert result.exit_code == 0
    assert f"{crisis_file}:2: skipped: invalid JSON" in result.stderr
    assert f"{crisis_file}:3: skipped: not a public post" in result.stderr
    assert "VOLUME spike" in result.stdout


def test_scan_writes_an_svg_chart(crisis_file, tmp_path):
    chart = tmp_path / "chart.svg"
    result = CliRunner().invoke(app, ["sentiment", "scan", str(crisis_file), "--chart", str(chart), "--bin", "15m"])
    assert result.exit_code == 0, result.output
    root = ElementTree.fromstring(chart.read_text(encoding="utf-8"))
    assert root.tag.endswith("svg")
    assert len(root.findall(".//{http://www.w3.org/2000/svg}polyline")) >= 3


def test_unreadable_file_and_bad_bin_are_invalid_input(tmp_path, crisis_file):
    result = CliRunner().invoke(app, ["sentiment", "scan", str(tmp_path / "nope.jsonl")])
    assert isinstance(result.exception, InvalidInput)
    result = CliRunner().invoke(app, ["sentiment", "scan", str(crisis_file), "--bin", "7m"])
    assert isinstance(result.exception, InvalidInput)


def test_watch_prints_alerts_from_stdin_as_they_fire(crisis_file):
    text = crisis_file.read_text(encoding="utf-8")
    result = CliRunner().invoke(app, ["sentiment", "watch", "--json", "--lateness", "10m"], input=text)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    alerts, stats = lines[:-1], lines[-1]["stats"]
    assert {a["kind"] for a in alerts} == {"volume", "negativity"}
    assert stats["malformed"] == 1 and stats["late"] == 0  # one swapped pair is within the lateness
