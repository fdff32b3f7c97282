"""Rendering speed of the customer notice (GDPR Art. 34) in the Jinja2 sandbox, one core.

Prints medians over R runs of N renders each, per CPU-second of this process:
  (a) the parts alone in the sandbox (subject + text + HTML, StrictUndefined, autoescape),
  (b) the same templates in a plain, unsandboxed Environment, for the cost of the sandbox,
  (c) Tocsin's full `render`: parts + required-section checks + SHA-256 (what a draft does),
  (d) loading and validating the template (compile + static checks + example renders, once per change).

Run: .venv/bin/python bench/render_bench.py [--renders 2000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from tocsin.templates.loader import BUILTIN_ROOT, validate
from tocsin.templates.render import prepare_variables, render
from tocsin.templates.sandbox import number, paragraphs

LOCALES = ("en", "de", "fr")


def medians(actions: dict[str, tuple[Callable[[], object], int]], runs: int) -> dict[str, float]:
    """Calls per CPU-second, median over runs. Variants take turns within each run, so a noisy
    neighbour on the shared machine slows all of them alike rather than one."""
    rates: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, (action, count) in actions.items():
            start = time.process_time()
            for _ in range(count):
                action()
            rates[name].append(count / max(time.process_time() - start, 1e-9))
    return {name: statistics.median(values) for name, values in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    loaded, problems = validate(BUILTIN_ROOT, "customer_notice")
    assert loaded is not None, problems
    variables = prepare_variables(loaded.manifest, loaded.manifest.example_variables())
    context = {**variables, "locale": "en"}
    sandboxed = [loaded.parts[("en", part)] for part in ("subject", "txt", "html")]

    plain_env = Environment(
        loader=FileSystemLoader(str(BUILTIN_ROOT)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    plain_env.filters.update(number=number, paragraphs=paragraphs)
    plain = [plain_env.get_template(f"customer_notice/en.{part}.j2") for part in ("subject", "txt", "html")]
    size = sum(len(t.render(context).encode()) for t in sandboxed)

    actions: dict[str, tuple[Callable[[], object], int]] = {
        "sandbox": (lambda: [t.render(context) for t in sandboxed], args.renders),
        "plain": (lambda: [t.render(context) for t in plain], args.renders),
        "full": (lambda: render(loaded, "en", variables), args.renders),
        **{locale: (lambda locale=locale: render(loaded, locale, variables), args.renders // 2) for locale in LOCALES},
        "validate": (lambda: validate(BUILTIN_ROOT, "customer_notice"), 10),
    }
    rates = medians(actions, args.runs)
    sandbox_rate, plain_rate, full_rate, validate_rate = (rates[k] for k in ("sandbox", "plain", "full", "validate"))
    locale_rates = {locale: rates[locale] for locale in LOCALES}

    print(
        f"customer_notice, 3 parts ({size:,} bytes rendered), {args.renders} renders x {args.runs} runs "
        "(median, per CPU-second)"
    )
    print(f"  (a) sandboxed parts:               {sandbox_rate:10,.0f} notices/s")
    print(
        f"  (b) plain Environment parts:       {plain_rate:10,.0f} notices/s  "
        f"(sandbox costs x{plain_rate / sandbox_rate:.2f})"
    )
    print(f"  (c) full render + checks + sha256: {full_rate:10,.0f} notices/s  ({1e6 / full_rate:.0f} us each)")
    for locale, rate in locale_rates.items():
        print(f"      full render, {locale}:             {rate:10,.0f} notices/s")
    print(f"  (d) load + validate (3 locales):   {1000 / validate_rate:10,.1f} ms each")


if __name__ == "__main__":
    main()
