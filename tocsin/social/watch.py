"""Scanning a mentions file and raising its alerts once (the recurring sentiment-watch job and
`tocsin sentiment scan --incident`)."""

from __future__ import annotations

import os
from pathlib import Path

from tocsin.core.config import get_settings
from tocsin.core.errors import InvalidInput
from tocsin.db.engine import session_scope
from tocsin.social.alerts import alert_key, attach_alert, attached_alerts, propose_crisis


def _key() -> bytes:
    secret = get_settings().pseudonym_key
    return secret.get_secret_value().encode() if secret else os.urandom(32)


def scan_and_raise(source: str | Path, *, incident_id: int | None = None, brand: str | None = None) -> dict[str, int]:
    from tocsin.sentiment.connectors import FileConnector, read_mentions
    from tocsin.sentiment.scan import Scan

    path = Path(source)
    if not path.is_file():
        raise InvalidInput("mentions file not found", where=str(path))
    issues: list[object] = []
    scan = Scan(brand=brand, keep_series=False)
    scan.add_all(read_mentions(FileConnector(path), _key(), issues.append))
    alerts = [a.to_json() for a in scan.finish().alerts]
    raised = 0
    with session_scope() as session:
        if incident_id is not None:
            seen = {alert_key(a) for a in attached_alerts(session, incident_id)}
            for alert in alerts:
                if alert_key(alert) not in seen:
                    attach_alert(session, incident_id, alert, source=path.name)
                    raised += 1
        else:
            raised = sum(1 for alert in alerts if propose_crisis(session, alert, brand=brand))
    return {"alerts": len(alerts), "raised": raised, "malformed": len(issues)}
