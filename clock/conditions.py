"""Applicability: rule conditions compiled once into small objects, evaluated three-valued.

TRUE / FALSE / UNKNOWN. UNKNOWN (an input that was not given) never excludes a rule
(facts-vocabulary section 1); only an explicit FALSE does, and it carries the reason.
The nodes here hold what a condition is and write why it failed or held; their tests are
compiled by condition_code.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tocsin.clock.condition_code import FALSE, TRUE, UNKNOWN, Test, compile_check, compile_group
from tocsin.clock.condition_code import MISSING as _MISSING
from tocsin.clock.schema import AppliesWhen, GroupSpec, PredicateSpec

__all__ = ["FALSE", "TRUE", "UNKNOWN", "Check", "Context", "Group", "RoleCheck", "Scope", "compile_conditions"]
_OP_TEXT = {"eq": "=", "ne": "!=", "in": "in", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class Context:
    """One incident's inputs as the conditions see them."""

    __slots__ = ("entity", "events", "facts", "memo", "options", "processor_present", "roles")

    def __init__(
        self,
        entity: Mapping[str, Any],
        facts: Mapping[str, Any],
        events: Mapping[str, Any],
        options: Mapping[str, Any],
        processor: Mapping[str, Any] | None,
    ) -> None:
        self.entity = entity
        self.facts = facts
        self.events = events
        self.options = options
        roles = entity.get("roles")
        self.roles: frozenset[str] | None = None if roles is None else frozenset(roles)
        # The top-level `processor` is the party where the breach occurred (the entity stays the controller).
        self.processor_present = processor is not None and "processor" in (processor.get("roles") or ["processor"])
        self.memo: dict[Any, int] = {}  # outcomes of shared scopes, tested once per incident


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


class Check:
    """A compiled predicate on one input key."""

    kind = "check"

    __slots__ = (
        "absent",
        "default",
        "key",
        "map_key",
        "name",
        "op",
        "reason",
        "store",
        "sum_fallback",
        "test",
        "value",
    )

    def __init__(self, spec: PredicateSpec, defaults: Mapping[str, bool]) -> None:
        self.store = {"entity": "entity", "fact": "facts", "event": "events", "option": "options"}[spec.source]
        self.name = spec.name
        self.op = spec.op
        self.value = spec.value
        self.map_key = spec.key
        self.sum_fallback = spec.sum_fallback
        self.reason = spec.reason
        self.default = defaults.get(self.name, _MISSING) if spec.source == "fact" else _MISSING
        self.absent = UNKNOWN if spec.if_absent == "unknown" else (TRUE if spec.if_absent else FALSE)
        self.key = f"{self.store}.{self.name}" if spec.source != "fact" else self.name
        self.test: Test = compile_check(self)

    def _value(self, ctx: Context) -> Any:
        store = getattr(ctx, self.store)
        value = store.get(self.name, _MISSING)
        if value is _MISSING and self.sum_fallback is not None:
            counts = ctx.facts.get(self.sum_fallback)
            if counts is not None:
                return sum(counts.values())
        if value is _MISSING:
            return self.default
        return value

    def label(self, ctx: Context) -> str:
        """What the input says, e.g. `residents_affected[TX]=249` or `personal_data_breach=true`."""
        if self.op in ("present", "absent"):
            return f"{self.key} {'given' if self.name in getattr(ctx, self.store) else 'not given'}"
        value = self._value(ctx)
        if value is _MISSING:
            return f"{self.key} not given"
        if self.map_key is None:
            suffix = " (default)" if self.name not in getattr(ctx, self.store) else ""
            if self.sum_fallback is not None and self.name not in getattr(ctx, self.store):
                suffix = f" (sum of {self.sum_fallback})"
            return f"{self.key}={_show(value)}{suffix}"
        if self.map_key == "*":
            shown = ", ".join(f"{code}={count}" for code, count in value.items())
            return f"{self.key}{{{shown}}}"
        return f"{self.key}[{self.map_key}]={value.get(self.map_key, 0)}"

    def failure(self, ctx: Context) -> str:
        if self.reason:
            return self.reason
        operator = "" if self.op == "eq" else f"{_OP_TEXT.get(self.op, self.op)} "
        wanted = f"{operator}{_show(self.value)}"
        if self.op in ("present", "absent"):
            wanted = f"must be {'given' if self.op == 'present' else 'absent'}"
        elif self.map_key == "*":
            wanted = f"needs one jurisdiction {wanted}"
        else:
            wanted = f"needs {wanted}"
        return f"{self.label(ctx)}; {wanted}"

    def collect(self, ctx: Context, asserted: list[str], unasserted: list[str]) -> None:
        outcome = self.test(ctx)
        if outcome == UNKNOWN:
            unasserted.append(self.key)
        elif outcome == TRUE and self.op not in ("absent", "ne"):
            asserted.append(self.label(ctx))


class RoleCheck:
    """The entity acts in one of `roles` (or an equivalent capacity)."""

    kind = "role"

    __slots__ = ("accepted", "for_processor", "roles")

    def __init__(self, roles: Sequence[str], equivalents: Mapping[str, Sequence[str]]) -> None:
        self.roles = list(roles)
        accepted = set(roles)
        for role in roles:
            accepted.update(equivalents.get(role, ()))
        self.accepted = frozenset(accepted)
        self.for_processor = "processor" in accepted

    def test(self, ctx: Context) -> int:
        if self.for_processor and ctx.processor_present:
            return TRUE
        if ctx.roles is None:
            return UNKNOWN
        return FALSE if ctx.roles.isdisjoint(self.accepted) else TRUE

    def failure(self, ctx: Context) -> str:
        return f"entity.roles {sorted(ctx.roles or ())} do not include {' or '.join(self.roles)}"

    def collect(self, ctx: Context, asserted: list[str], unasserted: list[str]) -> None:
        outcome = self.test(ctx)
        if outcome == UNKNOWN:
            unasserted.append("entity.roles")
        elif outcome == TRUE:
            held = sorted((ctx.roles or frozenset()) & self.accepted) or ["processor (top-level processor)"]
            asserted.append(f"role {'/'.join(held)}")


class Group:
    """all_of / any_of over compiled nodes, with an optional reason for its failure."""

    kind = "group"

    __slots__ = ("children", "is_any", "reason", "test")

    def __init__(self, children: Sequence[Any], is_any: bool, reason: str | None = None) -> None:
        self.children = tuple(children)
        self.is_any = is_any
        self.reason = reason
        self.test: Test = compile_group(self.children, is_any)

    def failure(self, ctx: Context) -> str:
        if self.reason:
            return self.reason
        if self.is_any:
            return "none of: " + "; ".join(child.failure(ctx) for child in self.children)
        for child in self.children:
            if child.test(ctx) == FALSE:
                return str(child.failure(ctx))
        return "conditions not met"

    def collect(self, ctx: Context, asserted: list[str], unasserted: list[str]) -> None:
        if self.is_any:  # the first satisfied branch explains it; an undecided any_of adds nothing
            satisfied = [child for child in self.children if child.test(ctx) == TRUE]
            if satisfied:
                satisfied[0].collect(ctx, asserted, unasserted)
            return
        for child in self.children:
            child.collect(ctx, asserted, unasserted)


class Scope(Group):
    """A named scope (e.g. `gdpr_controller`) shared by many rules: compiled once per table and
    tested once per incident (the outcome is kept in `ctx.memo`). Answers as its one child."""

    __slots__ = ()
    kind = "scope"

    def __init__(self, inner: Check | Group) -> None:
        super().__init__([inner], False)
        inner_test = inner.test

        def test(ctx: Context) -> int:
            memo = ctx.memo
            outcome = memo.get(inner_test)
            if outcome is None:
                outcome = memo[inner_test] = inner_test(ctx)
            return outcome

        self.test = test

    def failure(self, ctx: Context) -> str:
        return str(self.children[0].failure(ctx))


def compile_node(node: Any, defaults: Mapping[str, bool]) -> Check | Group:
    if isinstance(node, GroupSpec):
        is_any = node.any_of is not None
        children = node.any_of if is_any else node.all_of
        return Group([compile_node(child, defaults) for child in children or []], is_any, node.reason)
    return Check(node, defaults)


def compile_conditions(
    when: AppliesWhen,
    scopes: Mapping[str, Any],
    defaults: Mapping[str, bool],
    role_equivalents: Mapping[str, Sequence[str]],
    shared: dict[str, Scope] | None = None,
) -> Group:
    """One all_of group in evaluation order: scopes, entity, roles, facts, thresholds, any_of.
    `shared` holds the scopes already compiled for other rules of the same table."""
    shared = {} if shared is None else shared
    parts: list[Any] = []
    for name in when.scope:
        if name not in shared:
            shared[name] = Scope(compile_node(scopes[name], defaults))
        parts.append(shared[name])
    for key, value in when.entity.items():
        op = "in" if isinstance(value, list) else "eq"
        parts.append(Check(PredicateSpec(entity=key, op=op, value=value), defaults))
    if when.roles:
        parts.append(RoleCheck(when.roles, role_equivalents))
    for key, value in when.require.items():
        parts.append(Check(PredicateSpec(fact=key, op="eq", value=value), defaults))
    for key in when.exceptions:
        exception = PredicateSpec(fact=key, op="ne", value=True, reason=f"exception applies: {key}=true")
        parts.append(Check(exception, defaults))
    parts.extend(Check(spec, defaults) for spec in when.thresholds)
    if when.any_of:
        parts.append(Group([compile_node(node, defaults) for node in when.any_of], True, when.reason))
    return Group(parts, False)
