"""Legal review of drafts: `tocsin review DRAFT`, `tocsin approve DRAFT --hash SHA256`,
`tocsin reject DRAFT --comment TEXT`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, console, interactive, print_json

DRAFT_ARGUMENT = typer.Argument(help="Draft id (7 or D-7).")


@app.command()
def review(
    draft: Annotated[str, DRAFT_ARGUMENT],
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Send a draft to legal for review."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.ids import parse_draft_id

    data = open_gateway(actor).submit_for_review(parse_draft_id(draft))
    if json_output:
        print_json(data)
        return
    console.print(f"[bold]{data['ref']}[/] is in review: revision {data['revision']}, sha256 {data['sha256']}")
    if data.get("reviewers"):
        reviewers = ", ".join(r for r in data["reviewers"] if r != data["drafted_by"]) or "none but the drafter"
        console.print(f"Legal on {data['incident']}: {reviewers}.")
        console.print(f"Approve with `tocsin approve {data['id']} --hash {data['sha256'][:12]}`")
    else:
        console.print(f"Nobody holds the legal role on {data['incident']} yet: `tocsin assign ... legal PERSON`")


@app.command()
def approve(
    draft: Annotated[str, DRAFT_ARGUMENT],
    expected_hash: Annotated[
        str | None,
        typer.Option(
            "--hash",
            help="The sha256 (or its first 12+ characters) of the text you reviewed; refused if it changed. "
            "Without it, in a terminal, the draft is shown and you confirm its hash.",
        ),
    ] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="An optional note.")] = None,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Approve a draft's exact current content (legal role, and not its author)."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.ids import parse_draft_id

    gateway = open_gateway(actor)
    draft_id = parse_draft_id(draft)
    sha256 = expected_hash if expected_hash is not None else _confirm_reviewed(gateway, draft_id)
    data = gateway.approve(draft_id, sha256=sha256, comment=comment)
    if json_output:
        print_json(data)
        return
    console.print(f"[bold]D-{draft_id}[/] approved by {data['by']} (revision {data['revision']}).")
    console.print(f"Approved sha256: {data['sha256']}")
    console.print("Only this exact content may be sent; any edit needs a new approval.")


def _confirm_reviewed(gateway: Any, draft_id: int) -> str:
    """Without --hash: show the reviewer the text and its hash, and approve that hash on their yes."""
    from tocsin.core.errors import InvalidInput

    if not interactive():
        raise InvalidInput(
            "--hash is required when not run in a terminal: give the sha256 of the text you reviewed "
            f"(`tocsin draft show {draft_id}` prints it)"
        )
    data = gateway.draft(draft_id)
    console.print(f"[bold]{data['ref']}[/] ({data['incident']}), revision {data['revision']}, status {data['status']}")
    console.print(f"Subject: {data['subject']}\n", markup=False)
    console.print(data["text"], markup=False)
    console.print(f"\nsha256 {data['sha256']}")
    if not typer.confirm(f"Approve exactly this text (sha256 {data['sha256'][:12]}…)?", default=False):
        console.print("Not approved; nothing was recorded.")
        raise typer.Exit(1)
    return data["sha256"]


@app.command()
def reject(
    draft: Annotated[str, DRAFT_ARGUMENT],
    comment: Annotated[str, typer.Option("--comment", help="What must change (required).")],
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Reject a draft, saying what must change."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.ids import parse_draft_id

    draft_id = parse_draft_id(draft)
    data = open_gateway(actor).reject(draft_id, comment=comment)
    if json_output:
        print_json(data)
        return
    console.print(f"[bold]D-{draft_id}[/] rejected by {data['by']} (revision {data['revision']}): {data['comment']}")
    console.print(f"Edit it with `tocsin draft edit {draft_id} ...`, then `tocsin review {draft_id}` again.")
