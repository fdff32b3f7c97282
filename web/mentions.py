"""`POST /api/mentions`: social-media mentions (JSONL, or a JSON array) → pseudonymised, scored, binned and
run through the spike detector; an alert attaches to `?incident=ID` (the incident's commander or comms, or an
admin: `tocsin.social.actions`), or, without one, a negativity spike is proposed to the on-duty commander as a
possible crisis (anyone may raise the alarm).

The detector needs history (hours of bins) to know what is normal, so one detector per brand lives in
memory for the life of the process, fed by every POST. Limitation: a restart forgets that history (the
detector warms up again) and several server processes would each keep their own; run one process, or
use `tocsin sentiment watch` for a long-lived stream.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool
from tocsin.sentiment.connectors import RawRecord, ingest_records
from tocsin.sentiment.detector import Alert
from tocsin.sentiment.mention import LineIssue, Mention
from tocsin.sentiment.scan import Scan
from tocsin.web.auth import Caller

from tocsin.core.acting import Actor
from tocsin.core.config import Settings
from tocsin.core.errors import InvalidInput
from tocsin.core.ids import parse_incident_id
from tocsin.social.actions import check_may_raise, raise_alerts

router = APIRouter(prefix="/api", tags=["mentions"])
MAX_BODY = 32 * 1024 * 1024
MAX_BRANDS = 100  # each brand keeps a detector in memory
LATENESS_S = 60  # a bin closes once a mention arrives this long after its end
MAX_LISTED_REJECTS = 1000


class MentionWatch:
    """One streaming detector per brand, shared by all requests of this process."""

    def __init__(self, key: bytes, lateness: int = LATENESS_S) -> None:
        self.key = key
        self.lateness = lateness
        self._scans: dict[str, Scan] = {}
        self._fired: list[Alert] = []
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> MentionWatch:
        secret = settings.pseudonym_key
        # Without a configured key, pseudonyms are stable only for the life of the process.
        return cls(secret.get_secret_value().encode() if secret else os.urandom(32))

    def feed(self, brand: str | None, mentions: Sequence[Mention]) -> tuple[list[Alert], dict[str, int]]:
        """Add mentions to the brand's detector; the alerts that fired and what this batch changed."""
        label = (brand or "").strip().lower()
        with self._lock:
            scan = self._scans.get(label)
            if scan is None:
                if len(self._scans) >= MAX_BRANDS:
                    raise InvalidInput(f"already watching {MAX_BRANDS} brands in this process", where="brand")
                scan = Scan(brand=label or None, lateness=self.lateness, keep_series=False, on_alert=self._fired.append)
                self._scans[label] = scan
            before = (scan.stats.other_brand, scan.stats.late, scan.stats.bins)
            scan.add_all(mentions)
            fired = self._fired.copy()
            self._fired.clear()  # in place: every Scan's on_alert appends to this very list
            after = (scan.stats.other_brand, scan.stats.late, scan.stats.bins)
        other_brand, late, bins = (b - a for a, b in zip(before, after, strict=True))
        return fired, {"other_brand": other_brand, "late": late, "bins_closed": bins}


def split_records(body: bytes) -> list[RawRecord]:
    """A JSON array's items, else the body's lines (JSONL); numbering follows items or lines from 1."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the body is not UTF-8", where="body") from None
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            items = None  # maybe JSONL whose first line is not an object: rejected line by line below
        if isinstance(items, list):
            return items
    return list(text.splitlines())


def reject_dicts(issues: Sequence[LineIssue]) -> list[dict[str, Any]]:
    return [{"line": i.line, "reason": i.reason, "not_public": i.not_public} for i in issues[:MAX_LISTED_REJECTS]]


def _ingest(
    watch: MentionWatch, body: bytes, incident_id: int | None, brand: str | None, actor: Actor
) -> dict[str, Any]:
    if incident_id is not None:
        check_may_raise(actor, incident_id)  # 404 or 403 before the detector sees anything
    mentions, issues = ingest_records(split_records(body), watch.key)
    fired, changes = watch.feed(brand, mentions)
    alerts = [a.to_json() for a in fired]
    actions = (
        raise_alerts(actor, alerts, incident_id=incident_id, brand=brand, source=f"api ({actor.handle})")
        if alerts
        else []
    )
    return {
        "accepted": len(mentions),
        "rejected": len(issues),
        "not_public": sum(1 for i in issues if i.not_public),
        **changes,
        "alerts": alerts,
        "raised": len(actions),
        "actions": actions,
        "rejects": reject_dicts(issues),
    }


@router.post("/mentions", summary="Ingest mentions (JSONL or a JSON array) and raise sentiment alerts")
async def ingest_mentions(
    request: Request,
    caller: Caller,
    incident: str | None = Query(None, description="Attach alerts to this incident (else: propose a crisis)."),
    brand: str | None = Query(None, description="Count only mentions naming this brand; one detector per brand."),
) -> dict[str, Any]:
    incident_id = parse_incident_id(incident) if incident else None
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, f"body of {len(body)} bytes is larger than {MAX_BODY}; send smaller batches")
    watch: MentionWatch = request.app.state.mention_watch
    return await run_in_threadpool(_ingest, watch, body, incident_id, brand, caller)
