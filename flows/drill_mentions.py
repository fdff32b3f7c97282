"""The drill's social-media stream: mentions are released as simulated time passes, scored and run
through the spike detector, and every alert is raised onto the incident as the live watch raises it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from tocsin.sentiment.detector import Alert
from tocsin.sentiment.mention import parse_line
from tocsin.sentiment.scan import Scan

from tocsin.core.acting import Actor
from tocsin.core.clocks import parse_instant
from tocsin.social.actions import raise_alerts

WATCH = Actor.system("sentiment")  # the watch is Tocsin, not a simulated person


class DrillMentions:
    def __init__(self, path: Path, incident_id: int) -> None:
        self.incident_id = incident_id
        self.key = os.urandom(32)  # pseudonyms need only be stable within the drill
        self.alerts: list[dict[str, Any]] = []
        self.scan = Scan(keep_series=False, lateness=60, on_alert=self._alert)  # bins close as time passes
        self._pending = self._lines(path)
        self._next = next(self._pending, None)

    @staticmethod
    def _lines(path: Path) -> Iterator[tuple[datetime, str]]:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield parse_instant(json.loads(line)["created_at"]), line

    def _alert(self, alert: Alert) -> None:
        self.alerts.append(alert.to_json())

    def release_until(self, now: datetime) -> list[str]:
        """Feed every mention posted up to `now`; attach the alerts that fired. Returns what to echo."""
        while self._next is not None and self._next[0] <= now:
            mention = parse_line(self._next[1], self.key)
            if mention is not None:
                self.scan.add(mention)
            self._next = next(self._pending, None)
        said = []
        if self.alerts:
            # Raised as Tocsin's watch would raise them live (through the sentiment door, as Tocsin itself).
            raise_alerts(WATCH, self.alerts, incident_id=self.incident_id, brand=None, source="drill stream")
            said += [f"sentiment alert: {a['kind']} spike detected at {a['detected_at']}" for a in self.alerts]
            self.alerts.clear()
        return said

    def next_moment(self) -> datetime | None:
        return self._next[0] if self._next is not None else None
