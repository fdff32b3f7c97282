"""Scanning a mentions file and raising its alerts once (the recurring sentiment-watch job and
`tocsin sentiment scan --incident`)."""

from __future__ import annotations

import os
from pathlib import Path

from tocsin.core.acting import Actor
from tocsin.core.config import get_settings
from tocsin.core.errors import InvalidInput
from tocsin.sentiment.connectors import FileConnector, read_mentions
from tocsin.sentiment.scan import Scan
from tocsin.social.actions import check_may_raise, raise_alerts


def _key() -> bytes:
    secret = get_settings().pseudonym_key
    return secret.get_secret_value().encode() if secret else os.urandom(32)


def scan_and_raise(
    source: str | Path, *, actor: Actor, incident_id: int | None = None, brand: str | None = None
) -> dict[str, int]:
    """Scan the file and raise its new alerts as `actor` (the CLI's person, or Tocsin's recurring watch)."""
    path = Path(source)
    if not path.is_file():
        raise InvalidInput("mentions file not found", where=str(path))
    issues: list[object] = []
    scan = Scan(brand=brand, keep_series=False)
    scan.add_all(read_mentions(FileConnector(path), _key(), issues.append))
    alerts = [a.to_json() for a in scan.finish().alerts]
    if incident_id is not None:
        check_may_raise(actor, incident_id)  # refused before the file is read
    done = raise_alerts(actor, alerts, incident_id=incident_id, brand=brand, source=path.name)
    raised = len(done)
    return {"alerts": len(alerts), "raised": raised, "malformed": len(issues)}
