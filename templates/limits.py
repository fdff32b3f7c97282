"""Bounds on what a template may cost: Jinja's sandbox stops a template reaching Python internals, not one
asking for `('a' * 10**9)|length` (a gigabyte) or three nested `range(100000)` loops (hours).

Every operation that can make a value bigger is checked before it runs: `*`, `+`, `**`, `%`, `~`, the size
arguments of filters and string methods (`center(10**9)`), `replace` and `join` by the size of what they
would produce. Every loop counts against a per-render step budget and a wall-clock deadline, checked as it
iterates (so any thread is bounded, no signal or subprocess needed), and the rendered output is capped.
A breach raises Jinja's `SecurityError`, reported as `file:line: refused by the sandbox: ...`.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from jinja2 import Template, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_VALUE_SIZE = 100_000  # characters or items one operation may produce (a notice is a few kilobytes)
MAX_OUTPUT = 1_000_000  # characters of one rendered part
MAX_INT_BITS = 4_096  # `**` results (a 1,233-digit number is plenty for any notice)
MAX_FORMAT_WIDTH = 1_000  # `%999999999d`, `{:>999999999}`
MAX_LOOP_STEPS = 1_000_000  # loop iterations of one render, all loops together
MAX_SECONDS = 5.0  # wall clock of one render
_CHECK_EVERY = 1_024  # loop steps between deadline checks
_LOOP_GUARD = "tocsin_loop_guard"
_SIZED = (str, bytes, list, tuple)
_PRINTF_WIDTH = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_NUMBER = re.compile(r"\{[^{}]*?:[^{}]*?(\d+)")
_SIZE_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs"}


@dataclass
class Budget:
    """What one render may still spend."""

    deadline: float = field(default_factory=lambda: time.monotonic() + MAX_SECONDS)
    steps: int = MAX_LOOP_STEPS

    def spend(self, steps: int) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise SecurityError(f"the template loops more than {MAX_LOOP_STEPS:,} times in one render")
        if time.monotonic() > self.deadline:
            raise SecurityError(f"the template took longer than {MAX_SECONDS:g} s to render")


_budget: ContextVar[Budget | None] = ContextVar("tocsin_template_budget", default=None)


@contextmanager
def render_budget() -> Iterator[Budget]:
    """One render's budget (loop steps, deadline) for the loops it runs."""
    budget = Budget()
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


def _current_budget() -> Budget:
    return _budget.get() or Budget()  # rendered outside `render_budget`: each loop gets its own


def _refuse_size(size: int, what: str) -> None:
    if size > MAX_VALUE_SIZE:
        raise SecurityError(f"{what} would be {size:,} long (at most {MAX_VALUE_SIZE:,})")


def _refuse_format_widths(text: str, printf: bool) -> None:
    if printf:
        for width, precision in _PRINTF_WIDTH.findall(text):
            if "*" in (width, precision) or max(int(width or 0), int(precision or 0)) > MAX_FORMAT_WIDTH:
                raise SecurityError(f"a format width over {MAX_FORMAT_WIDTH} (or `*`) in {text[:40]!r}")
    elif any(int(number) > MAX_FORMAT_WIDTH for number in _FORMAT_NUMBER.findall(text)):
        raise SecurityError(f"a format width over {MAX_FORMAT_WIDTH} in {text[:40]!r}")


def _refuse_big_ints(values: Iterable[Any], what: str) -> None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_VALUE_SIZE:
            raise SecurityError(f"{what} with {value:,} (sizes up to {MAX_VALUE_SIZE:,})")


def _joined_size(items: Any, separator: str = "") -> int:
    if not isinstance(items, list | tuple):
        return 0  # a generator or mapping: its size is checked after the join
    return sum(len(item) if isinstance(item, str) else len(str(item)) for item in items) + len(separator) * len(items)


def _check_result(value: Any, what: str) -> Any:
    if isinstance(value, _SIZED):
        _refuse_size(len(value), what)
    return value


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` with its size arguments checked before, and its result after."""
    skip = 2 if getattr(function, "jinja_pass_arg", None) is not None else 1  # (context,) value, then arguments

    @wraps(function)  # keeps `jinja_pass_arg`: Jinja passes the context to the filters that ask for it
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if (len(args) > skip or kwargs) and name != "format":  # format's arguments are values shown, not sizes
            _refuse_big_ints([*args[skip:], *kwargs.values()], f"filter {name}")
        value = args[skip - 1] if len(args) >= skip else None
        if name == "format" and isinstance(value, str):
            _refuse_format_widths(value, printf=True)
        if name == "replace" and isinstance(value, str) and len(args) > skip + 1:
            old, new = str(args[skip]), str(args[skip + 1])
            grows = (len(new) - len(old)) * (value.count(old) if old else len(value) + 1)
            _refuse_size(len(value) + max(grows, 0), "the result of replace")
        if name == "join":
            _refuse_size(_joined_size(value, str(args[skip]) if len(args) > skip else ""), "the joined text")
        return _check_result(function(*args, **kwargs), f"the result of filter {name}")

    return bounded


@pass_context
def _loop_guard(context: Context, iterable: Any) -> Iterator[Any]:
    """What every `{% for %}` iterates: the items, counted against the render's budget."""
    budget = _current_budget()
    count = 0
    for item in iterable:
        count += 1
        if count == _CHECK_EVERY:
            budget.spend(count)
            count = 0
        yield item
    budget.spend(count)


class BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator with every loop's iterable wrapped in the loop guard, and `~` checked."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        # before the generator collects the filters the template uses, so the guard is one of them
        for loop in node.find_all(nodes.For):
            if not (isinstance(loop.iter, nodes.Filter) and loop.iter.name == _LOOP_GUARD):
                loop.iter = nodes.Filter(loop.iter, _LOOP_GUARD, [], [], None, None, lineno=loop.iter.lineno)
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked_concat(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with the size, loop and time bounds of this module."""

    code_generator_class = BoundedCodeGenerator
    # intercepted operators are also never folded at compile time (compiling `'a'*10**9` would cost the gigabyte)
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters = {name: _bounded_filter(name, function) for name, function in self.filters.items()}
        self.filters[_LOOP_GUARD] = _loop_guard

    def add_filter(self, name: str, function: Callable[..., Any]) -> None:
        self.filters[name] = _bounded_filter(name, function)

    def checked_concat(self, joined: Any) -> Any:
        return _check_result(joined, "the text joined with ~")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, _SIZED) and isinstance(times, int):
                    _refuse_size(len(sequence) * max(times, 0), "the repeated value")
        elif operator == "+" and isinstance(left, _SIZED) and isinstance(right, _SIZED):
            _refuse_size(len(left) + len(right), "the sum")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
            if right * math.log2(abs(left)) > MAX_INT_BITS:
                raise SecurityError(f"{left} ** {right} is too large a number (at most {MAX_INT_BITS} bits)")
        elif operator == "%" and isinstance(left, str):
            _refuse_format_widths(left, printf=True)
        return _check_result(super().call_binop(context, operator, left, right), f"the result of {operator}")

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(__obj, "__name__", "")
        # the sandbox hands out str.format wrapped (to format safely): the string is the wrapped method's
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        if isinstance(owner, str):
            if name in _SIZE_METHODS:
                _refuse_big_ints([*args, *kwargs.values()], f"str.{name}")
            elif name in ("format", "format_map"):
                _refuse_format_widths(owner, printf=False)
            elif name == "join":
                _refuse_size(_joined_size(args[0] if args else (), owner), "the joined text")
            elif name == "replace" and len(args) >= 2:
                old, new = str(args[0]), str(args[1])
                grows = (len(new) - len(old)) * (owner.count(old) if old else len(owner) + 1)
                _refuse_size(len(owner) + max(grows, 0), "the result of replace")
        elif name == "lipsum":
            _refuse_big_ints([*args, *kwargs.values()], "lipsum")
        return _check_result(super().call(__context, __obj, *args, **kwargs), f"the result of {name or 'the call'}")


def bounded_output(chunks: Iterator[str], template: Template | None = None) -> str:
    """The rendered chunks joined, refused as soon as they pass MAX_OUTPUT characters (at the template line
    that was writing)."""
    total = 0
    parts: list[str] = []
    for chunk in chunks:
        total += len(chunk)
        if total > MAX_OUTPUT:
            error = SecurityError(f"the rendered text is longer than {MAX_OUTPUT:,} characters")
            error.lineno = _suspended_line(chunks, template)  # type: ignore[attr-defined]
            raise error
        parts.append(chunk)
    return "".join(parts)


def _suspended_line(chunks: Iterator[str], template: Template | None) -> int | None:
    """The template line of the innermost render function (a block, an include) that yielded last."""
    generator: Any = chunks
    while getattr(generator, "gi_yieldfrom", None) is not None:
        generator = generator.gi_yieldfrom
    frame = getattr(generator, "gi_frame", None)
    if frame is None or template is None:
        return None
    return template.get_corresponding_lineno(frame.f_lineno)
