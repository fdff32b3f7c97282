"""Waking the playbook runs that wait on an incident, after an action committed what they wait for.

Every action ends with `waker(incident_id)`. The CLI and Slack wake at once; the JSON API and the console
pass a waker that defers it to after the response (`web.background.later`), so nobody waits for a phase.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger("tocsin.wakeup")

Waker = Callable[[int], list[str]]


def wake_now(incident_id: int) -> list[str]:
    """Start the next phase of every run waiting on the incident; returns how each was handed over."""
    # Imported here: the flows load Prefect and every step handler, which a command that wakes nothing
    # (and the CLI's start-up) must not pay for.
    from tocsin.flows.launch import wake

    handed = wake(incident_id)
    for how in handed:
        log.info("INC-%s: playbook continues: %s", incident_id, how)
    return handed


def wake_nothing(_incident_id: int) -> list[str]:
    """For callers that wake the runs themselves later (a drill's loop advances its run on its own)."""
    return []
