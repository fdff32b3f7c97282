"""Who receives an obligation: lead SA or one item per SA, the Member State's CSIRT or DORA
authority, one media item per qualifying US state, the CAC channel per operator type.

`resolver(rule)` picks the rule's function once (its `recipient_by` mode and additions); every
function answers (rule, context, rule book, processor) -> the recipients' names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tocsin.clock.condition_code import compare
from tocsin.clock.conditions import TRUE, Context

if TYPE_CHECKING:
    from tocsin.clock.rules_loader import CompiledRule, RuleBook

Recipients = Callable[["CompiledRule", Context, "RuleBook", Mapping[str, Any] | None], Sequence[str]]
_MEMO_LIMIT = 4096  # answers kept per rule (combinations of lead SA and affected states)


def no_one_stop_shop(entity: Mapping[str, Any]) -> bool:
    """No EU establishment (explicitly, or via Art. 3(2) with no main establishment given)."""
    if entity.get("eu_establishment") is False:
        return True
    return (
        entity.get("gdpr_art3_2_applies") is True
        and "main_establishment" not in entity
        and entity.get("eu_establishment") is not True
    )


def _eu_supervisory_authorities(
    rule: CompiledRule, ctx: Context, book: RuleBook, processor: Mapping[str, Any] | None
) -> tuple[str, ...]:
    states = book.member_states
    subjects = ctx.facts.get("data_subjects") or {}
    affected: list[str] = []
    for code, count in subjects.items():
        if code in states and count > 0:
            affected.append(code)
    alone = no_one_stop_shop(ctx.entity)
    main = None if alone else ctx.entity.get("main_establishment")
    key = (alone, main, *affected)  # the answer depends on these only: kept on the rule
    found = rule.memo.get(key)
    if found is None:
        if len(rule.memo) >= _MEMO_LIMIT:
            rule.memo.clear()
        found = rule.memo[key] = tuple(_eu_authorities(rule, book, alone, main, affected))
    return found  # type: ignore[no-any-return]


def _eu_authorities(rule: CompiledRule, book: RuleBook, alone: bool, main: Any, affected: list[str]) -> list[str]:
    states = book.member_states
    if alone:
        if not affected:
            return ["supervisory authority of each Member State where affected data subjects reside (no one-stop-shop)"]
        return [_authority_text(rule, book, "own", code) for code in affected]
    if main in states:
        others = ", ".join(code for code in affected if code != main)
        covered = f"; one-stop-shop covers data subjects in {others}" if others else ""
        return [f"{_authority_text(rule, book, 'lead', main)}{covered})"]
    return [rule.spec.recipient]


def _authority_text(rule: CompiledRule, book: RuleBook, kind: str, code: str) -> str:
    """A Member State's supervisory authority as named in a recipient, kept per (kind, state) on the rule."""
    found = rule.memo.get((kind, code))
    if found is None:
        state = book.member_states[code]
        if kind == "own":
            found = f"{state.dpa} ({state.name}; no EU establishment: one notice per SA)"
        else:  # lead SA; the caller closes the parenthesis after the states it covers
            found = f"{state.dpa} (lead SA, {state.name}"
        rule.memo[(kind, code)] = found
    return found  # type: ignore[no-any-return]


def _member_state_authority(
    rule: CompiledRule, ctx: Context, book: RuleBook, processor: Mapping[str, Any] | None
) -> tuple[str, ...]:
    code = ctx.entity.get("member_state")
    found = rule.memo.get(code)  # one answer per Member State, kept on the compiled rule
    if found is None:
        found = rule.memo[code] = _authority_of(rule, code, book)
    return found  # type: ignore[no-any-return]


def _authority_of(rule: CompiledRule, code: str | None, book: RuleBook) -> tuple[str]:
    by = rule.spec.recipient_by
    assert by is not None and by.authority is not None
    state = book.member_states.get(code) if code else None
    name = getattr(state, by.authority, None) if state else None
    if name:
        return (f"{name} {by.suffix or ''}".strip(),)
    return (f"{rule.spec.recipient} ({code})" if code else rule.spec.recipient,)


def _per_state(rule: CompiledRule, ctx: Context, book: RuleBook, processor: Mapping[str, Any] | None) -> list[str]:
    by = rule.spec.recipient_by
    assert by is not None and by.fact and by.op and by.template
    counts = ctx.facts.get(by.fact)
    if not counts:
        return [rule.spec.recipient]
    names = book.table.us_states
    return [
        by.template.format(state=names.get(code, code))
        for code, count in sorted(counts.items())
        if compare(by.op, count, by.value)
    ] or [rule.spec.recipient]


def _entity_key(rule: CompiledRule, ctx: Context, book: RuleBook, processor: Mapping[str, Any] | None) -> list[str]:
    by = rule.spec.recipient_by
    assert by is not None and by.key
    value = ctx.entity.get(by.key)
    return [by.values.get(value, rule.spec.recipient) if value else rule.spec.recipient]


def _controller_of_processor(
    rule: CompiledRule, ctx: Context, book: RuleBook, processor: Mapping[str, Any] | None
) -> list[str]:
    if processor is not None:
        controller = ctx.entity.get("name", "the controller")
        return [f"controller {controller} (notifying party: processor {processor.get('name', 'unnamed')})"]
    return ["the controller on whose behalf the entity processes the data"]


def _own(rule: CompiledRule, ctx: Context, book: RuleBook, processor: Mapping[str, Any] | None) -> list[str]:
    return [rule.recipient]


_BY_MODE: dict[str, Recipients] = {
    "eu_supervisory_authority": _eu_supervisory_authorities,
    "member_state": _member_state_authority,
    "per_state": _per_state,
    "entity_key": _entity_key,
    "controller_of_processor": _controller_of_processor,
}


def resolver(rule: CompiledRule) -> Recipients | None:
    """The rule's recipients function, or None when its obligations go to `rule.recipient` as it is."""
    by = rule.spec.recipient_by
    if by is None and not rule.additions:
        return None
    names_of = _own if by is None else _BY_MODE[by.mode]
    if not rule.additions:
        return names_of
    additions = rule.additions

    def with_additions(
        rule: CompiledRule, ctx: Context, book: RuleBook, processor: Mapping[str, Any] | None
    ) -> Sequence[str]:
        names = names_of(rule, ctx, book, processor)
        added = [text for when, text in additions if when.test(ctx) == TRUE]
        if added:
            return [f"{name}, {', '.join(added)}" for name in names]
        return names

    return with_additions
