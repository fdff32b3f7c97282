"""`tocsin drill PLAYBOOK`: run a playbook end to end on a simulated clock, then print its scorecard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import JSON_OPTION, console, print_json


@app.command()
def drill(
    playbook: Annotated[str, typer.Argument(help="Playbook to rehearse (e.g. data-breach).")] = "data-breach",
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="Scenario YAML (default: the built-in one).")
    ] = None,
    speed: Annotated[
        float,
        typer.Option("--speed", help="Simulated seconds per real second (default: 72 h in a minute; 0 = no waiting)."),
    ] = 4320.0,
    prefect: Annotated[bool, typer.Option("--prefect/--no-prefect", help="Run each phase as a Prefect flow.")] = True,
    json_output: bool = JSON_OPTION,
) -> None:
    """Rehearse a playbook with simulated people and every channel captured to the drill's outbox."""
    from tocsin.cli.gateway import require_local

    require_local("drill")
    from tocsin.cli.drill_view import render_scorecard
    from tocsin.flows.drill import run_drill
    from tocsin.flows.scenario import default_scenario, load_scenario

    chosen = load_scenario(scenario or default_scenario(playbook))
    echo = (lambda _line: None) if json_output else (lambda line: console.print(line, markup=False, highlight=False))
    result = run_drill(chosen, playbook=playbook, speed=speed, use_prefect=prefect, echo=echo)
    if json_output:
        print_json(result.scorecard)
    else:
        render_scorecard(result.scorecard)
    if result.status != "completed":
        raise typer.Exit(1)
