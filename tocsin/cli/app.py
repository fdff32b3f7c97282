"""The Typer application object and the shared error handling of every command."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="tocsin",
    help="Tocsin: incident response with the regulators' clocks built in.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
