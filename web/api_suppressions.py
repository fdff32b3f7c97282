"""The suppression list over HTTP: addresses no notice wave emails. Adding one is `tocsin.wave.actions.suppress`
(comms, legal or the DPO on an open incident, or an admin): it silences legally required notices too."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from tocsin.web.auth import Caller
from tocsin.web.schemas import SuppressionBody

from tocsin.core.clocks import iso_utc
from tocsin.db.engine import session_scope
from tocsin.wave import actions
from tocsin.wave.deliveries import list_suppressions as query

router = APIRouter(prefix="/api", tags=["suppressions"])


@router.get("/suppressions", summary="The suppression list, oldest first")
def list_suppressions(
    _caller: Caller, reason: str | None = Query(None, description="Only this reason.")
) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [
            {
                "email": s.email,
                "reason": s.reason,
                "source": s.source,
                "note": s.note,
                "by": s.created_by,
                "at": iso_utc(s.created_at),
            }
            for s in query(session, reason=reason)
        ]


@router.post("/suppressions", status_code=201, summary="Never email this address (comms, legal, DPO or admin)")
def suppress(body: SuppressionBody, caller: Caller) -> dict[str, Any]:
    return actions.suppress(caller, body.email, reason=body.reason, note=body.note)
