"""`tocsin obligations FILE`: placeholder until the clock engine lands."""

from __future__ import annotations

from pathlib import Path

import typer

from tocsin.cli.app import app


@app.command()
def obligations(file: Path, json_output: bool = typer.Option(False, "--json")) -> None:
    """Every notification obligation the facts in FILE trigger."""
    raise typer.Exit(1)
