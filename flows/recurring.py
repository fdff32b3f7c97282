"""Recurring jobs as Prefect flows, for a team running Prefect server and workers (prefect.yaml).

On one machine, `tocsin scheduler run` (APScheduler) does the same work; run one or the other.
"""

from __future__ import annotations

from tocsin.flows import prefect_env

prefect_env.configure()

from prefect import flow  # noqa: E402


@flow(name="tocsin-reminders", persist_result=False)
def send_due_reminders() -> dict[str, int]:
    """One scheduler pass: every deadline reminder and overdue escalation that is due, every page whose ack
    timeout passed, and every run whose wait ended, woken once (`run_pass` wakes them; nothing here again)."""
    from tocsin.obligations.scheduler import run_pass

    report = run_pass()
    return {"reminders": report.reminders, "escalations": len(report.escalations), "runs_woken": len(report.runs_woken)}


@flow(name="tocsin-launch", persist_result=False)
def launch_playbook(incident_id: int, playbook: str, inputs: dict | None = None, actor: str = "prefect") -> int:
    """Launch a playbook on an incident from Prefect (the per-playbook deployments)."""
    from tocsin.flows.launch import launch
    from tocsin.flows.runner import advance

    from tocsin.core.acting import Actor

    # Started by whoever runs the deployment on the Prefect server (an operator): not a person's request here.
    run_id = launch(incident_id, playbook, inputs=inputs or {}, actor=Actor.system(actor))
    advance(run_id)
    return run_id


@flow(name="tocsin-sentiment-watch", persist_result=False)
def watch_sentiment(source: str, incident_id: int | None = None, brand: str | None = None) -> dict[str, int]:
    """Scan a mentions file (JSONL, e.g. what a platform connector appends to) and raise new alerts:
    into `incident_id` if given, else to the on-duty commander as a crisis proposal. Alerts already
    raised for the same spike (kind and detection time) are not raised again."""
    from tocsin.core.acting import Actor
    from tocsin.social.watch import scan_and_raise

    # Tocsin's own recurring watch (the deployment's schedule), not a person's request.
    return scan_and_raise(source, actor=Actor.system("sentiment"), incident_id=incident_id, brand=brand)
