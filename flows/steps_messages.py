"""Step handlers for external words: draft, await_approval, send, notice_wave, watch_sentiment.

Nothing leaves Tocsin unless legal approved exactly that content: `send` and `notice_wave` go
through the drafts service's `assert_sendable`, never around it.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from tocsin.flows.step_types import Outcome, StepContext, handles
from tocsin.flows.steps_clock import when
from tocsin.models import DraftStatus
from tocsin.models.enums import Role
from tocsin.playbooks.schema import AwaitApprovalStep, DraftStep, NoticeWaveStep, SendStep, WatchSentimentStep
from tocsin.templates.loader import load_template
from tocsin.templates.problems import MissingInputs

from tocsin.core.clocks import iso_utc
from tocsin.drafts.approvals import assert_sendable, decision_of, mark_sent
from tocsin.drafts.drafting import DraftRequest, create_draft, get_draft, submit_for_review
from tocsin.incidents.service import commander_of, people_with_role
from tocsin.messages.queue import queue_to_channel, queue_to_person
from tocsin.obligations.service import obligations_of, record_event


def _drafter(context: StepContext, role: Role) -> str:
    holders = people_with_role(context.session, context.incident.id or 0, role)
    return holders[0].handle if holders else (commander_of(context.session, context.incident.id or 0) or "playbook")


def _recipient_locales(context: StepContext, offered: list[str]) -> list[str]:
    """Locales of the people on the recipients list that the template offers (the incident's own first)."""
    path = context.input("recipients")
    wanted = {context.incident.locale}
    if path and Path(path).exists():
        with Path(path).open(newline="", encoding="utf-8") as handle:
            wanted |= {(row.get("locale") or "").strip().lower() for row in csv.DictReader(handle)}
    ordered = [context.incident.locale, *sorted(wanted - {context.incident.locale})]
    return [locale for locale in ordered if locale in offered] or [offered[0]]


def drafts_of_step(context: StepContext, step_id: str) -> dict[str, int]:
    from sqlmodel import select
    from tocsin.models.playbook_run import PlaybookStepState

    state = context.session.exec(
        select(PlaybookStepState).where(
            PlaybookStepState.run_id == context.run.id, PlaybookStepState.step_id == step_id
        )
    ).first()
    return dict(state.result.get("drafts", {})) if state else {}


@handles("draft")
def draft(context: StepContext, step: DraftStep) -> Outcome:
    if context.state.result.get("drafts"):
        return Outcome.done("already drafted")
    loaded = load_template(step.template)
    inputs = {k: v for k, v in (context.run.inputs or {}).items() if k in loaded.manifest.variables}
    if step.locale:
        locales: list[str | None] = [step.locale]
    elif step.audience == "individuals":
        locales = list(_recipient_locales(context, list(loaded.manifest.locales)))
    else:
        locales = [None]
    drafter = _drafter(context, step.drafter)
    made: dict[str, int] = {}
    try:
        for locale in locales:
            language = locale or context.incident.locale
            drafted = create_draft(
                context.session,
                DraftRequest(context.incident.id or 0, step.template, in_language(inputs, language), locale),
                actor=drafter,
            )
            submit_for_review(context.session, drafted.draft.id or 0, actor=drafter)
            made[drafted.draft.locale] = drafted.draft.id or 0
    except MissingInputs as missing:
        context.session.rollback()
        names = ", ".join(m.name for m in missing.missing)
        return Outcome.waiting(
            f"{step.template} needs input(s) {names}: give them with "
            f"`tocsin playbook input {context.run.id} NAME=VALUE`"
        )
    refs = ", ".join(f"D-{i} ({locale})" for locale, i in made.items())
    for person in people_with_role(context.session, context.incident.id or 0, Role.legal):
        queue_to_person(
            context.session,
            person,
            incident_id=context.incident.id,
            purpose="review",
            subject=f"[{context.incident.ref}] {step.template} awaits your review: {refs}",
            body=f"Review: tocsin draft show ID, then tocsin approve ID or tocsin reject ID --comment ...\n{refs}",
            message_id=f"review:{context.key}:{person.handle}",
        )
    return Outcome.done(f"{refs} in review, drafted by {drafter}", drafts=made)


@handles("await_approval")
def await_approval(context: StepContext, step: AwaitApprovalStep) -> Outcome:
    drafts = drafts_of_step(context, step.draft)
    if not drafts:
        return Outcome.skipped(f"step {step.draft} produced no draft")
    decisions = {locale: decision_of(context.session, draft_id) for locale, draft_id in drafts.items()}
    if all(d.sendable for d in decisions.values()):
        approvers = sorted({d.decided_by or "" for d in decisions.values()})
        return Outcome.done(f"approved by {', '.join(approvers)}", approved_by=approvers)
    due = when(context, step.due) if step.due else None
    pending = [f"D-{d.draft_id}: {d.reason}" for d in decisions.values() if not d.sendable]
    if due is not None and context.now >= due and not context.state.result.get("late_warned"):
        commander = commander_of(context.session, context.incident.id or 0)
        for person in people_with_role(context.session, context.incident.id or 0, Role.commander):
            queue_to_person(
                context.session,
                person,
                incident_id=context.incident.id,
                purpose="escalation",
                subject=f"[{context.incident.ref}] approval of {step.draft} is late (due {iso_utc(due)})",
                body="\n".join(pending),
                message_id=f"late-approval:{context.key}:{person.handle}",
            )
        context.state.result = {**context.state.result, "late_warned": commander}
    wake = due if due is not None and due > context.now else None
    return Outcome.waiting("; ".join(pending), wake_at=wake)


@handles("send")
def send(context: StepContext, step: SendStep) -> Outcome:
    drafts = drafts_of_step(context, step.draft)
    if not drafts:
        return Outcome.skipped(f"step {step.draft} produced no draft")
    session, incident = context.session, context.incident
    destination = _destination(context, step)
    if (missing := _missing_filing_address(context, step, destination)) is not None:
        return Outcome.waiting(missing)
    sent: list[str] = []
    for draft_id in drafts.values():
        draft = get_draft(session, draft_id)
        if draft.status == DraftStatus.sent:
            sent.append(draft.ref)
            continue
        assert_sendable(session, draft_id)
        message_id = f"send:{context.key}:{draft.ref}:{draft.content_sha256[:16]}"
        queue_to_channel(
            session,
            destination,
            incident_id=incident.id,
            purpose=draft.audience,
            subject=draft.subject,
            body=draft.text,
            message_id=message_id,
            kind="email" if step.channel == "email" else "chat",
        )
        mark_sent(session, draft_id, actor="playbook", reference=message_id)
        sent.append(draft.ref)
    discharged = record_submissions(context, step.submits, f"sent {', '.join(sent)}")
    return Outcome.done(f"sent {', '.join(sent)} by {step.channel}", sent=sent, submitted=discharged)


def _destination(context: StepContext, step: SendStep) -> str:
    """Email goes to the regulator's filing address: configured for the rule it discharges
    (TOCSIN_REGULATOR_EMAILS), else the `regulator_email` input, else a placeholder that only the outbox takes
    (drills, or a notice to be filed through the regulator's portal)."""
    from tocsin.core.config import get_settings
    from tocsin.messages.channels import PLACEHOLDER_FILING_ADDRESS, regulator_address

    if step.channel == "email":
        given = regulator_address(get_settings(), step.submits, context.input("regulator_email"))
        return given or PLACEHOLDER_FILING_ADDRESS
    return "#public-statement" if step.channel == "statement" else f"#inc-{context.incident.id}"


def _missing_filing_address(context: StepContext, step: SendStep, destination: str) -> str | None:
    """With SendGrid configured, a notice is not sent (nor recorded as filed) to the placeholder address."""
    from tocsin.messages.channels import FILING_ADDRESS_SETTING, email_via_sendgrid, is_placeholder_address

    if step.channel != "email" or not is_placeholder_address(destination) or not email_via_sendgrid():
        return None
    rules = ", ".join(step.submits) or "this notice"
    return (
        f"the regulator's filing address is not configured for {rules} ({FILING_ADDRESS_SETTING}); "
        f"SendGrid cannot deliver {destination}: `tocsin playbook input {context.run.id} regulator_email=ADDRESS`, "
        "or file it through the regulator's portal and record it with `tocsin submit`"
    )


def record_submissions(context: StepContext, rules: list[str], note: str) -> list[str]:
    """Record `submitted:<rule>` for each of `rules` the incident owes and has not submitted yet."""
    owed = {o.rule for o in obligations_of(context.session, context.incident.id or 0) if o.submitted_at is None}
    done = [rule for rule in rules if rule in owed]
    for rule in done:
        record_event(context.session, context.incident, f"submitted:{rule}", context.now, actor="playbook", note=note)
    return done


def _held_in_doubt(incident_id: int, held: int) -> str:
    """The step's note while rows of its wave are held in doubt after a crash: how many, and how to decide."""
    return (
        f"{held:,} rows held in doubt after a crash (their request was in flight; whether SendGrid took it is "
        f"unknown): see `tocsin wave in-doubt INC-{incident_id}`, then decide with "
        f"`tocsin wave resolve INC-{incident_id} --resend|--skip --reason TEXT`"
    )


@handles("notice_wave")
def notice_wave(context: StepContext, step: NoticeWaveStep) -> Outcome:
    from tocsin.db.engine import session_scope
    from tocsin.messages.channels import email_channel
    from tocsin.wave.in_doubt import held_batches
    from tocsin.wave.run import run_wave

    drafts = drafts_of_step(context, step.draft)
    if not drafts:
        return Outcome.skipped(f"step {step.draft} produced no draft")
    recipients = context.input(step.recipients_input)
    if not recipients:
        return Outcome.waiting(
            f"the recipients list is missing: `tocsin playbook input {context.run.id} {step.recipients_input}=FILE.csv`"
        )
    incident_id = context.incident.id or 0
    if context.state.result.get("wave", {}).get("held"):  # an earlier pass held rows: run again once decided
        still_held = sum(batch.held for batch in held_batches(context.session, incident_id))
        if still_held:
            return Outcome.waiting(_held_in_doubt(incident_id, still_held))
    # The wave commits as it goes (exactly-once bookkeeping), so it runs in its own session.
    with session_scope() as wave_session:
        report = run_wave(
            wave_session,
            incident_id,
            list(drafts.values()),
            Path(recipients),
            channel=email_channel(),
            actor="playbook",
        )
    context.session.refresh(context.incident)
    summary: dict[str, Any] = report.counts()
    if report.held:
        # Nobody is recorded notified while some may or may not have been: the step waits for the decision
        # (`tocsin wave resolve` wakes the run, and the next pass sends the rest and counts them).
        return Outcome.waiting(_held_in_doubt(incident_id, report.held), wave=summary)
    if report.sent or report.already_sent:
        record_event(
            context.session,
            context.incident,
            "consumers_notified",
            context.now,
            actor="playbook",
            note=f"notice wave {report.wave_id}",
        )
        summary["submitted"] = record_submissions(context, step.submits, f"notice wave {report.wave_id}")
    note = "; ".join(f"{k} {', '.join(v) if isinstance(v, list) else v}" for k, v in summary.items() if v)
    return Outcome.done(note, wave=summary)


@handles("watch_sentiment")
def watch_sentiment(context: StepContext, step: WatchSentimentStep) -> Outcome:
    from tocsin.playbooks.schema import parse_duration

    until = context.now + parse_duration(step.for_)
    source = context.input("mentions")
    return Outcome.done(
        f"watching mentions{' of ' + step.brand if step.brand else ''} until {iso_utc(until)}"
        + (f" from {source}" if source else " (feed them with `tocsin sentiment watch --incident`)"),
        watch_until=iso_utc(until),
        mentions=source,
        brand=step.brand,
    )


def in_language(inputs: dict[str, Any], locale: str) -> dict[str, Any]:
    """Inputs may be given per language (`{fr: "...", en: "..."}`): take this locale's, else English, else any."""
    chosen: dict[str, Any] = {}
    for name, value in inputs.items():
        if isinstance(value, dict) and value and all(isinstance(k, str) and len(k) <= 5 for k in value):
            fallback = value.get("en") or next(iter(value.values()))
            value = value.get(locale) or value.get(locale.split("-")[0]) or fallback
        chosen[name] = value
    return chosen
