"""The Prefect flow that runs a playbook: one flow run per phase, one task per step.

A phase runs steps until one has to wait for a person or a time; the flow run then ends (no
process stays busy during a 72-hour wait). The event or time it waits for starts the next phase
(see flows/wake.py). Steps that are safe to retry (they compute, or their side effects are keyed
by run and step) have task retries; steps that send notices do not.
"""

from __future__ import annotations

from tocsin.flows import prefect_env

prefect_env.configure()

from prefect import flow, task  # noqa: E402
from prefect.runtime import flow_run  # noqa: E402
from tocsin.flows import runner  # noqa: E402

RETRIES = {"compute_obligations": 2, "open_channel": 2, "set_status": 1, "checklist": 1, "wait_until": 1}


@task(name="playbook-step", persist_result=False)
def step_task(run_id: int, step_id: str) -> str:
    return runner.run_step(run_id, step_id)


def _prefect_step(run_id: int, step_id: str) -> str:
    step_type = runner.step_type(run_id, step_id)
    options = step_task.with_options(
        task_run_name=f"{step_type}:{step_id}", retries=RETRIES.get(step_type, 0), retry_delay_seconds=2
    )
    return options(run_id, step_id)


@flow(name="tocsin-playbook", persist_result=False, log_prints=False)
def playbook_flow(run_id: int) -> str:
    """Advance playbook run `run_id` until it waits or finishes; returns the run's status."""
    runner.note_flow_run(run_id, str(flow_run.get_id() or ""))
    return runner.advance(run_id, _prefect_step)
