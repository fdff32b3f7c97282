"""Issue #15: an invalid setting is one line naming the environment variable or TOML key, for every command
(exit 2, no traceback, no pydantic URL); credentials inside URL settings are never shown or printed."""

from __future__ import annotations

import base64
import importlib.util
import socket
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.helpers import ok, run_cli
from tocsin.core.redact import redact_text, redact_url


@pytest.mark.parametrize("command", [("purge",), ("config",), ("incidents",), ("show", "1")])
def test_an_invalid_setting_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch, command: tuple) -> None:
    monkeypatch.setenv("TOCSIN_RECIPIENT_RETENTION_DAYS", "0")
    monkeypatch.setenv("TOCSIN_WEB_SESSION_HOURS", "soon")
    refused = run_cli(*command, stdin="{}")
    assert refused.exit_code == 2, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert lines == [
        "error: environment variable TOCSIN_RECIPIENT_RETENTION_DAYS=0: Input should be greater than or equal to 1 "
        "(setting recipient_retention_days)",
        "error: environment variable TOCSIN_WEB_SESSION_HOURS=soon: Input should be a valid number, unable to parse "
        "string as a number (setting web_session_hours)",
    ]
    assert "pydantic" not in refused.stderr and "Traceback" not in refused.stderr


def test_a_bad_toml_key_is_named_and_a_secret_value_is_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "tocsin.toml"
    config.write_text('future_event_skew_hours = -1\nslack_token = ["not", "a", "string"]\n')
    monkeypatch.setenv("TOCSIN_CONFIG", str(config))
    refused = run_cli("config")
    assert refused.exit_code == 2
    assert f"error: {config} key 'future_event_skew_hours'" in refused.stderr
    assert "key 'slack_token' (or TOCSIN_SLACK_TOKEN in .env): Input should be a valid string" in refused.stderr
    assert "not" not in refused.stderr.split("slack_token")[1].split(":")[0]


def test_url_credentials_are_masked_in_config_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", "postgresql+psycopg://tocsin:hunter2@db.internal:5432/tocsin")
    monkeypatch.setenv("TOCSIN_SENDGRID_HOST", "https://apikey:SG.s3cret@sendgrid.proxy.internal")
    monkeypatch.setenv("TOCSIN_SLACK_BASE_URL", "https://bot:xoxb-topsecret@slack.proxy.internal/api/")
    monkeypatch.setenv("TOCSIN_SLACK_TOKEN", "xoxb-real-token")
    shown = ok("config", "--json")
    for secret in ("hunter2", "SG.s3cret", "xoxb-topsecret", "xoxb-real-token"):
        assert secret not in shown.stdout
    data = shown.json()
    assert data["database_url"] == "postgresql+psycopg://tocsin:***@db.internal:5432/tocsin"
    assert data["sendgrid_host"] == "https://apikey:***@sendgrid.proxy.internal"
    assert data["slack_base_url"] == "https://bot:***@slack.proxy.internal/api/"
    table = ok("config")
    assert "hunter2" not in table.stdout and "s3cret" not in table.stdout


def test_error_messages_quoting_a_url_hide_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", "postgresql+psycopg://tocsin:hunter2@127.0.0.1:1/x?connect_timeout=1")
    failed = run_cli("incidents")
    assert failed.exit_code != 0 and "hunter2" not in failed.stderr
    message = "could not parse 'postgres://u:p@ss:w0rd@db/x' nor http://token123@host/path?mail=a@b"
    assert redact_text(message) == "could not parse 'postgres://u:***@db/x' nor http://token123@host/path?mail=a@b"
    assert redact_url("https://example.org/x") == "https://example.org/x"
    assert redact_url("https://0123456789abcdefghijk@api.example") == "https://***@api.example"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TOCSIN_REMINDER_LEAD_HOURS", "[48,x]", "list (a JSON array) such as [1]"),
        ("TOCSIN_AUDIT_RETIRED_KEYS", "notalist", 'list (a JSON array) such as ["a"]'),
        ("TOCSIN_ESCALATION_CHAINS", "{", 'map (a JSON object) such as {"key": ["a"]}'),
    ],
)
def test_malformed_json_in_a_list_or_map_setting_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    refused = run_cli("config")
    assert refused.exit_code == 2, refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"error: environment variable {variable}: not valid JSON (")
    assert line.endswith(f"); expected a {expected} (setting {variable.removeprefix('TOCSIN_').lower()})")
    assert value not in line.split(":", 2)[1] and "unexpected" not in line


def test_every_malformed_json_setting_is_reported_at_once_also_from_dot_env(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text("TOCSIN_ESCALATION_CHAINS={\n")  # the tests run in tmp_path
    monkeypatch.setenv("TOCSIN_REMINDER_LEAD_HOURS", "[48,x]")
    refused = run_cli("incidents")
    assert refused.exit_code == 2
    lines = refused.stderr.strip().splitlines()
    assert [line.split(":")[1] for line in lines] == [
        " environment variable TOCSIN_REMINDER_LEAD_HOURS",
        " TOCSIN_ESCALATION_CHAINS (in .env)",
    ]


def test_well_formed_json_settings_still_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_REMINDER_LEAD_HOURS", "[48, 6]")
    monkeypatch.setenv("TOCSIN_ESCALATION_CHAINS", '{"comms": ["ann", "bo"]}')
    monkeypatch.setenv("TOCSIN_AUDIT_RETIRED_KEYS", '["old-key"]')
    data = ok("config", "--json").json()
    assert data["reminder_lead_hours"] == [48.0, 6.0]
    assert data["escalation_chains"] == {"comms": ["ann", "bo"]}
    assert data["audit_retired_keys"] == ["********"]


def test_valid_json_of_the_wrong_shape_names_the_setting_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_REGULATOR_EMAILS", '["dpa@example.org"]')
    refused = run_cli("config")
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        "error: environment variable TOCSIN_REGULATOR_EMAILS: Input should be a valid dictionary "
        "(setting regulator_emails)"
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://tocsin:hunter2@db:notaport/tocsin", "the port is not a number"),
        ("postgresql://tocsin:hunter2@db:99999/tocsin", "port 99999 is out of range (1-65535)"),
        ("not a url", "not a database URL; expected e.g. postgresql://"),
        ("mysql://tocsin:hunter2@db/tocsin", "'mysql' is not a database Tocsin runs on"),
        ("postgresql+nosuch://db/tocsin", "unknown database driver 'postgresql+nosuch'"),
        ("postgresql+psycopg2://db/tocsin", "the driver of 'postgresql+psycopg2' is not installed"),
    ],
)
def test_a_malformed_database_url_is_one_line_exit_2_without_its_password(
    monkeypatch: pytest.MonkeyPatch, url: str, reason: str
) -> None:
    if "psycopg2" in url and importlib.util.find_spec("psycopg2") is not None:
        pytest.skip("psycopg2 is installed here")
    monkeypatch.setenv("TOCSIN_DATABASE_URL", url)
    refused = run_cli("incidents")
    assert refused.exit_code == 2, refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: environment variable TOCSIN_DATABASE_URL")
    assert reason in line and line.endswith("(setting database_url)")
    assert "hunter2" not in line and "unexpected" not in line


def test_a_database_that_cannot_be_reached_is_one_line_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("TOCSIN_DATABASE_URL", f"postgresql+psycopg://tocsin:hunter2@127.0.0.1:{port}/tocsin")
    refused = run_cli("incidents")
    assert refused.exit_code == 1, refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: the database cannot be used (TOCSIN_DATABASE_URL): connection failed")
    assert f"port {port}" in line and "hunter2" not in line and "unexpected" not in line


@pytest.mark.parametrize("url", ["postgres://db.internal/tocsin", "sqlite:///tocsin.db"])
def test_database_urls_tocsin_accepts_pass_the_check(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", url)
    assert ok("config", "--json").json()["database_url"] == url


def test_a_bad_toml_file_or_a_missing_config_file_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("database_url = \n")
    monkeypatch.setenv("TOCSIN_CONFIG", str(broken))
    refused = run_cli("config")
    assert (refused.exit_code, refused.stderr) == (
        2,
        f"error: {broken}: not valid TOML: Invalid value (at line 1, column 16)\n",
    )
    monkeypatch.setenv("TOCSIN_CONFIG", str(tmp_path / "missing.toml"))
    refused = run_cli("config")
    assert refused.exit_code == 2
    assert refused.stderr.startswith(
        f"error: environment variable TOCSIN_CONFIG={tmp_path / 'missing.toml'}: no such file"
    )


def _public_key_text(public: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> str:
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("not-a-key", "not a base64 public key"),
        (_public_key_text(rsa.generate_private_key(65537, 2048).public_key()), "not an ECDSA public key"),
    ],
)
@pytest.mark.parametrize("command", [("serve", "--port", "1"), ("config",), ("webhook", "sendgrid", "events.json")])
def test_a_malformed_sendgrid_webhook_key_stops_serve_and_every_command(
    monkeypatch: pytest.MonkeyPatch, key: str, reason: str, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("TOCSIN_SENDGRID_WEBHOOK_PUBLIC_KEY", key)
    Path("events.json").write_text("[]")  # the tests run in tmp_path
    refused = run_cli(*command)
    assert refused.exit_code == 2, refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"error: environment variable TOCSIN_SENDGRID_WEBHOOK_PUBLIC_KEY: {reason}; copy it from")
    assert line.endswith("(setting sendgrid_webhook_public_key)") and key not in line


def test_a_real_sendgrid_webhook_key_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TOCSIN_SENDGRID_WEBHOOK_PUBLIC_KEY", _public_key_text(ec.generate_private_key(ec.SECP256R1()).public_key())
    )
    assert ok("config", "--json").json()["sendgrid_webhook_public_key"] == "********"
