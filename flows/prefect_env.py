"""Prefect runs embedded and offline unless a server is configured.

Call `configure()` before importing prefect: it keeps Prefect's state under $TOCSIN_HOME/prefect,
turns telemetry off (no outside connection is attempted), and gives the ephemeral server enough
time to start on a small machine. Values already set in the environment win.
"""

from __future__ import annotations

import os

from tocsin.core.config import get_settings


def configure() -> None:
    home = get_settings().home / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_LEVEL": os.environ.get("TOCSIN_PREFECT_LOG_LEVEL", "WARNING"),
        "PREFECT_UI_ENABLED": "false",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


def server_configured() -> bool:
    return bool(os.environ.get("PREFECT_API_URL"))
