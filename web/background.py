"""Work done after the answer has gone out: waking waiting playbook runs (which may start a process).

The actions wake the runs waiting on an incident after their commit; the API and the console hand them
`later(tasks)`, so the wake runs once the response is sent and nobody waits for a phase to start.
"""

from __future__ import annotations

import logging

from fastapi import BackgroundTasks

from tocsin.core.wakeup import Waker, wake_now

log = logging.getLogger("tocsin.web")


def wake_runs(incident_id: int) -> list[str]:
    """Let a playbook run waiting on this incident continue (after an approval, an ack, an event)."""
    try:
        return wake_now(incident_id)
    except Exception:  # the decision is already committed; a failed wake must not be reported as its failure
        log.exception("INC-%s: could not wake the waiting playbook runs", incident_id)
        return []


def later(tasks: BackgroundTasks) -> Waker:
    """A waker for an action called by a route: the wake is queued to run after the response."""

    def queue(incident_id: int) -> list[str]:
        tasks.add_task(wake_runs, incident_id)
        return []

    return queue
