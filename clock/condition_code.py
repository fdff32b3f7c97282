"""How compiled conditions are evaluated: three-valued tests made once, at load.

A check becomes a closure (`compile_check`). A group (all_of / any_of) becomes one function
whose simple checks are written inline (`compile_group`): a batch tests ~110,000 rules per
10,000 incidents, and a Python call per node cost more than the comparisons themselves. The
source of a group function is generated from its children; values are bound by name in the
function's namespace (only str, int, bool and None are written as literals, through `repr`), and
`source` on the function keeps the text. tests/clock/test_compiled_and_memoised.py checks every
rule's compiled test against the predicate semantics written out plainly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

FALSE, TRUE, UNKNOWN = 0, 1, 2  # FALSE < TRUE < UNKNOWN: an undecided group answers its largest outcome
MISSING = object()  # an input key that was not given
Test = Callable[[Any], int]  # (conditions.Context) -> FALSE / TRUE / UNKNOWN
_ORDERED = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_LITERAL_TYPES = (str, int, bool, type(None))


def compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if op == "in":
        return actual in expected
    if isinstance(actual, bool) or not isinstance(actual, int):
        return False
    if op == "gt":
        return actual > expected
    if op == "gte":
        return actual >= expected
    if op == "lt":
        return actual < expected
    return bool(actual <= expected)


def _comparer(op: str, expected: Any) -> Callable[[Any], bool]:
    """`compare` with the operator resolved once, at load."""
    if op == "eq":
        return lambda actual: bool(actual == expected)
    if op == "ne":
        return lambda actual: bool(actual != expected)
    if op == "in":
        return lambda actual: actual in expected
    return lambda actual: compare(op, actual, expected)


def compile_check(check: Any) -> Test:
    """A `conditions.Check`'s test as one closure: store, operator and map key are decided at load."""
    store, name, absent = attrgetter(check.store), check.name, check.absent
    if check.op == "present":
        return lambda ctx: TRUE if name in store(ctx) else FALSE
    if check.op == "absent":
        return lambda ctx: FALSE if name in store(ctx) else TRUE
    compare_to, map_key, fallback, default = (
        _comparer(check.op, check.value),
        check.map_key,
        check.sum_fallback,
        check.default,
    )

    def test(ctx: Any) -> int:
        value = store(ctx).get(name, MISSING)
        if value is MISSING:
            if fallback is not None:  # e.g. total individuals as the sum of a per-state map
                counts = ctx.facts.get(fallback)
                value = default if counts is None else sum(counts.values())
            else:
                value = default
            if value is MISSING:
                return absent  # type: ignore[no-any-return]
        if map_key is None:
            return TRUE if compare_to(value) else FALSE
        if map_key == "*":
            return TRUE if any(compare_to(count) for count in value.values()) else FALSE
        return TRUE if compare_to(value.get(map_key, 0)) else FALSE

    return test


class _Source:
    """The text and the namespace of one group function being written."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {"MISSING": MISSING, "isinstance": isinstance, "bool": bool}
        self.stores: set[str] = set()

    def value(self, value: Any) -> str:
        """`value` as it appears in the source: a literal, or a name bound in the namespace."""
        if type(value) in _LITERAL_TYPES:
            return repr(value)
        name = f"v{len(self.names)}"
        self.names[name] = value
        return name


def _act(outcome: int, decisive: int) -> str:
    """What a child's outcome does to the group: decide it, make it undecided, or nothing."""
    if outcome == decisive:
        return f"return {decisive}"
    return f"r = {UNKNOWN}" if outcome == UNKNOWN else "pass"


def _holds(check: Any, value: str, source: _Source) -> str:
    """The check's comparison on `value` (an expression), as `compare` does it."""
    op, expected = check.op, source.value(check.value)
    if op == "eq":
        return f"{value} == {expected}"
    if op == "ne":
        return f"{value} != {expected}"
    if op == "in":
        return f"{value} in {expected}"
    return f"(not isinstance({value}, bool) and isinstance({value}, int) and {value} {_ORDERED[op]} {expected})"


def _check_lines(check: Any, source: _Source, decisive: int) -> list[str] | None:
    """A check written inline, or None for the rarer forms (sum fallback, any key `*`)."""
    if check.sum_fallback is not None or check.map_key == "*":
        return None
    store, name = check.store, source.value(check.name)
    source.stores.add(store)
    if check.op in ("present", "absent"):
        holds = TRUE if check.op == "present" else FALSE
        return [f"if {name} in {store}:", f"    {_act(holds, decisive)}", "else:", f"    {_act(1 - holds, decisive)}"]
    compared, tested = "value", []
    if check.map_key is not None:  # one jurisdiction of a per-jurisdiction map, 0 when not in it
        compared, tested = "count", [f"count = value.get({source.value(check.map_key)}, 0)"]
    tested += [f"if {_holds(check, compared, source)}:", f"    {_act(TRUE, decisive)}"]
    tested += ["else:", f"    {_act(FALSE, decisive)}"]
    if check.default is not MISSING:  # a fact default: never absent
        return [f"value = {store}.get({name}, {source.value(check.default)})", *tested]
    absent = [f"value = {store}.get({name}, MISSING)", "if value is MISSING:", f"    {_act(check.absent, decisive)}"]
    return [*absent, "else:", *(f"    {line}" for line in tested)]


def _role_lines(role: Any, source: _Source, decisive: int) -> list[str]:
    """`conditions.RoleCheck.test` written inline."""
    accepted = source.value(role.accepted)
    lines = ["roles = ctx.roles"]
    test = "if"
    if role.for_processor:
        lines += ["if ctx.processor_present:", f"    {_act(TRUE, decisive)}"]
        test = "elif"
    lines += [f"{test} roles is None:", f"    {_act(UNKNOWN, decisive)}"]
    lines += [f"elif roles.isdisjoint({accepted}):", f"    {_act(FALSE, decisive)}"]
    return [*lines, "else:", f"    {_act(TRUE, decisive)}"]


def _child_lines(child: Any, source: _Source, decisive: int) -> list[str]:
    kind = child.kind
    lines = _check_lines(child, source, decisive) if kind == "check" else None
    if lines is not None:
        return lines
    if kind == "role":
        return _role_lines(child, source, decisive)
    if kind == "scope":  # tested once per incident: the outcome is kept in ctx.memo under its inner test
        inner = source.value(child.children[0].test)
        lines = [f"outcome = memo.get({inner})", "if outcome is None:", f"    outcome = memo[{inner}] = {inner}(ctx)"]
    else:
        lines = [f"outcome = {source.value(child.test)}(ctx)"]
    lines += [f"if outcome == {decisive}:", f"    return {decisive}"]
    return [*lines, f"if outcome == {UNKNOWN}:", f"    r = {UNKNOWN}"]


def compile_group(children: Sequence[Any], is_any: bool) -> Test:
    """The three-valued test of all_of / any_of over `children` (conditions.Check, RoleCheck, Group
    or Scope) as one function: children in order, stopping at the first decisive outcome (FALSE for
    all_of, TRUE for any_of); else UNKNOWN if a child was, else the other outcome."""
    if len(children) == 1 and children[0].kind in ("group", "scope"):
        return children[0].test  # type: ignore[no-any-return]  # a one-child group answers as its child
    decisive = TRUE if is_any else FALSE
    source = _Source()
    body: list[str] = []
    for child in children:
        body += _child_lines(child, source, decisive)
    if any(child.kind == "scope" for child in children):
        body.insert(0, "memo = ctx.memo")
    head = [f"{store} = ctx.{store}" for store in sorted(source.stores)]
    lines = ["def test(ctx):", *(f"    {line}" for line in [*head, f"r = {1 - decisive}", *body, "return r"])]
    text = "\n".join(lines) + "\n"
    namespace = dict(source.names)
    exec(compile(text, f"<condition group {' / '.join(child.kind for child in children)}>", "exec"), namespace)
    test: Any = namespace["test"]
    test.source = text
    return test  # type: ignore[no-any-return]
