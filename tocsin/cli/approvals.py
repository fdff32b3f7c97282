"""Legal review of drafts: `tocsin review DRAFT`, `tocsin approve DRAFT --as PERSON`,
`tocsin reject DRAFT --as PERSON --comment TEXT`."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, acting_person, console, print_json

DRAFT_ARGUMENT = typer.Argument(help="Draft id (7 or D-7).")


@app.command()
def review(
    draft: Annotated[str, DRAFT_ARGUMENT],
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Send a draft to legal for review."""
    from tocsin.db.engine import session_scope
    from tocsin.drafts.drafting import parse_draft_id, submit_for_review
    from tocsin.drafts.views import draft_dict
    from tocsin.incidents.service import people_with_role
    from tocsin.models import Role

    who = acting_person(actor)
    with session_scope() as session:
        record = submit_for_review(session, parse_draft_id(draft), actor=who)
        data = draft_dict(record, content=False)
        data["reviewers"] = [p.handle for p in people_with_role(session, record.incident_id, Role.legal)]
    if json_output:
        print_json(data)
        return
    console.print(f"[bold]{data['ref']}[/] is in review: revision {data['revision']}, sha256 {data['sha256']}")
    if data["reviewers"]:
        reviewers = ", ".join(r for r in data["reviewers"] if r != data["drafted_by"]) or "none but the drafter"
        console.print(f"Legal on {data['incident']}: {reviewers}.")
        console.print(f"Approve with `tocsin approve {data['id']} --as PERSON --hash {data['sha256'][:12]}`")
    else:
        console.print(f"Nobody holds the legal role on {data['incident']} yet: `tocsin assign ... legal PERSON`")


@app.command()
def approve(
    draft: Annotated[str, DRAFT_ARGUMENT],
    expected_hash: Annotated[
        str | None,
        typer.Option("--hash", help="The sha256 (or its first 12+ characters) you reviewed; refused if it changed."),
    ] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="An optional note.")] = None,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Approve a draft's exact current content (legal role, and not its author)."""
    from tocsin.core.errors import InvalidInput
    from tocsin.db.engine import session_scope
    from tocsin.drafts.approvals import approve as record_approval
    from tocsin.drafts.drafting import parse_draft_id
    from tocsin.drafts.views import approval_dict

    who = acting_person(actor)
    if expected_hash is not None and len(expected_hash.strip()) < 12:
        raise InvalidInput("--hash needs at least the first 12 characters of the sha256")
    draft_id = parse_draft_id(draft)
    with session_scope() as session:
        data = approval_dict(
            record_approval(session, draft_id, approver=who, expected_sha256=expected_hash, comment=comment)
        )
    data["draft"] = f"D-{draft_id}"
    _continue(draft_id)
    if json_output:
        print_json(data)
        return
    console.print(f"[bold]D-{draft_id}[/] approved by {data['by']} (revision {data['revision']}).")
    console.print(f"Approved sha256: {data['sha256']}")
    console.print("Only this exact content may be sent; any edit needs a new approval.")


@app.command()
def reject(
    draft: Annotated[str, DRAFT_ARGUMENT],
    comment: Annotated[str, typer.Option("--comment", help="What must change (required).")],
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Reject a draft, saying what must change."""
    from tocsin.db.engine import session_scope
    from tocsin.drafts.approvals import reject as record_rejection
    from tocsin.drafts.drafting import parse_draft_id
    from tocsin.drafts.views import approval_dict

    who = acting_person(actor)
    draft_id = parse_draft_id(draft)
    with session_scope() as session:
        data = approval_dict(record_rejection(session, draft_id, approver=who, comment=comment))
    data["draft"] = f"D-{draft_id}"
    _continue(draft_id)
    if json_output:
        print_json(data)
        return
    console.print(f"[bold]D-{draft_id}[/] rejected by {data['by']} (revision {data['revision']}): {data['comment']}")
    console.print(f"Edit it with `tocsin draft edit {draft_id} ...`, then `tocsin review {draft_id}` again.")


def _continue(draft_id: int) -> None:
    from tocsin.cli.output import continue_playbooks
    from tocsin.db.engine import session_scope
    from tocsin.drafts.drafting import get_draft

    with session_scope() as session:
        incident_id = get_draft(session, draft_id).incident_id
    continue_playbooks(incident_id)
