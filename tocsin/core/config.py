"""Tocsin's configuration: environment variables (TOCSIN_*), a `.env` file, and `tocsin.toml`.

Precedence, highest first: environment, `.env` in the working directory, the TOML file named by
TOCSIN_CONFIG (else `./tocsin.toml`, else `$TOCSIN_HOME/tocsin.toml`), then the defaults below.
All local state lives under `home`.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from tocsin.core.redact import redact_url
from tocsin.core.settings_errors import SettingsInvalid, config_file_problem, settings_problems, source_problem
from tocsin.core.settings_values import check_database_url, check_sendgrid_public_key, decode_json


def default_home() -> Path:
    """`$TOCSIN_HOME`, else `$XDG_DATA_HOME/tocsin`, else `~/.local/share/tocsin`."""
    if home := os.environ.get("TOCSIN_HOME"):
        return Path(home).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "tocsin"


def config_file() -> Path | None:
    if explicit := os.environ.get("TOCSIN_CONFIG"):
        return Path(explicit).expanduser()
    for candidate in (Path.cwd() / "tocsin.toml", default_home() / "tocsin.toml"):
        if candidate.is_file():
            return candidate
    return None


class Settings(BaseSettings):
    # List and map settings are decoded from JSON by `_decode_json`, whose errors name the setting.
    model_config = SettingsConfigDict(
        env_prefix="TOCSIN_", env_file=".env", env_file_encoding="utf-8", extra="ignore", enable_decoding=False
    )

    home: Path = Field(default_factory=default_home, description="Folder for all local state")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite at $TOCSIN_HOME/tocsin.db"
    )
    timezone: str | None = Field(default=None, description="Display zone; default the system zone")
    default_commander: str | None = Field(default=None, description="Commander when --commander is omitted")
    default_locale: str = "en"

    reminder_lead_hours: list[float] = Field(default=[48, 24, 12, 4, 1])
    scheduler_sync_seconds: float = Field(default=30, gt=0, description="How often the scheduler re-reads obligations")
    on_duty_commander: str | None = Field(default=None, description="Who is asked to declare a crisis on a spike")
    playbook_executor: Literal["prefect", "inline"] = Field(
        default="prefect", description="prefect: each phase is a Prefect flow run; inline: same steps, no Prefect"
    )
    escalation_chains: dict[str, list[str]] = Field(
        default_factory=dict, description="role -> handles paged in order before the whole role"
    )
    recipient_retention_days: int = Field(default=90, ge=1)
    # Facts whose events lie further ahead of the clock's now than this are refused (a mistyped year: 2099).
    future_event_skew_hours: float = Field(
        default=24, ge=0, description="How far ahead of now an incident's event time may be (clock skew, zones)"
    )
    mention_retention_days: int = Field(default=30, ge=1)

    slack_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_base_url: str | None = None
    sendgrid_api_key: SecretStr | None = None
    sendgrid_host: str | None = None
    # The Event Webhook's verification key (base64 ECDSA public key): when set, unsigned or forged POSTs are refused.
    sendgrid_webhook_public_key: SecretStr | None = None
    # Without a key the webhook refuses every POST, unless this insecure switch is on (local testing only).
    sendgrid_webhook_insecure: bool = False
    email_from: str = "incident-response@example.org"
    pseudonym_key: SecretStr | None = None
    # Messages to people and channels (dispatch.py): transient failures are retried with exponential backoff.
    message_max_attempts: int = Field(default=5, ge=1, description="Attempts before a message is marked failed")
    message_retry_seconds: float = Field(default=60, gt=0, description="Wait after the first failed attempt")
    regulator_emails: dict[str, str] = Field(
        default_factory=dict, description="rule id (or prefix) -> the regulator's filing address for `send` steps"
    )

    # The web console (`tocsin serve`): the key signing session cookies (default: generated once into
    # $TOCSIN_HOME/web-secret), cookies only over HTTPS, how long a log-in lasts, and failed log-ins per handle
    # or client address before a lock-out.
    # The audit timeline's key (HMAC of every event and checkpoint; default: generated once into
    # $TOCSIN_HOME/audit-key), keys retired by a rotation (still verifiable), and the append-only log the
    # checkpoints go to (default $TOCSIN_HOME/audit-checkpoints.jsonl): keep both out of the DBA's reach.
    audit_key: SecretStr | None = None
    audit_retired_keys: list[SecretStr] = Field(default_factory=list)
    audit_checkpoint_file: Path | None = None
    web_secret_key: SecretStr | None = None
    web_https_only: bool = False
    web_session_hours: float = Field(default=12, gt=0)
    web_login_attempts: int = Field(default=5, ge=1)
    web_lockout_minutes: float = Field(default=15, gt=0)
    # Request bodies over these sizes are refused with 413 before they are read (web/body_limit.py): the default,
    # Slack, /webhooks/*, the console's launch form (uploaded files, spooled to disk) and /api/mentions batches.
    web_max_body_bytes: int = Field(default=1 << 20, ge=1)
    web_max_slack_body_bytes: int = Field(default=512 << 10, ge=1)
    web_max_webhook_body_bytes: int = Field(default=4 << 20, ge=1)
    web_max_upload_bytes: int = Field(default=200 << 20, ge=1)
    web_max_mentions_body_bytes: int = Field(default=32 << 20, ge=1)
    # Behind a reverse proxy: trust X-Forwarded-For / -Proto from these addresses (uvicorn's forwarded-allow-ips).
    # Off by default: the client address is the TCP peer's.
    web_trust_proxy: bool = False
    web_forwarded_allow_ips: str = "127.0.0.1"
    # A console session unused this long ends, however young it is (`web_session_hours` is the absolute end).
    web_session_idle_minutes: float = Field(default=120, gt=0)

    @field_validator("home", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("*", mode="before")
    @classmethod
    def _decode_json(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        return decode_json(value, field.annotation) if field is not None else value

    @field_validator("database_url", mode="after")
    @classmethod
    def _database_url_parses(cls, value: str | None) -> str | None:
        if value:
            check_database_url(value)
        return value

    @field_validator("sendgrid_webhook_public_key", mode="after")
    @classmethod
    def _webhook_key_parses(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            check_sendgrid_public_key(value.get_secret_value())
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        if (toml := config_file()) is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'tocsin.db'}"

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    def masked(self) -> dict[str, Any]:
        """Every setting for display, secrets replaced by a mask (and passwords in URLs hidden)."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            elif isinstance(value, list) and any(isinstance(item, SecretStr) for item in value):
                value = ["********" for _ in value]
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, str) and "://" in value:  # any URL setting: credentials in it are hidden
                value = redact_url(value)
            shown[name] = value
        shown["database_url"] = mask_url(self.resolved_database_url)
        shown["config_file"] = str(config_file()) if config_file() else None
        return shown


def mask_url(url: str) -> str:
    """Hide the password of a database URL."""
    from sqlalchemy.engine import make_url  # SQLAlchemy: the client-mode CLI reads the settings, not the database

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings in force; invalid ones raise `SettingsInvalid`, one line per bad setting (every door)."""
    toml = config_file()
    if (problem := config_file_problem(toml)) is not None:
        raise SettingsInvalid([problem])
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsInvalid(settings_problems(error, Settings, toml)) from None
    except (SettingsError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:  # a source could not be read
        raise SettingsInvalid([source_problem(error, toml)]) from None
