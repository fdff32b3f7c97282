"""Work done after the answer has gone out: waking waiting playbook runs (which may start a process)."""

from __future__ import annotations

import logging

from fastapi import BackgroundTasks

log = logging.getLogger("tocsin.web")


def wake_runs(incident_id: int) -> None:
    """Let a playbook run waiting on this incident continue (after an approval, an ack, an event)."""
    from tocsin.flows.launch import wake

    try:
        for how in wake(incident_id):
            log.info("INC-%s: playbook run continuing (%s)", incident_id, how)
    except Exception:  # the decision is already committed; a failed wake must not be reported as its failure
        log.exception("INC-%s: could not wake the waiting playbook runs", incident_id)


def wake_later(tasks: BackgroundTasks, incident_id: int) -> None:
    tasks.add_task(wake_runs, incident_id)
