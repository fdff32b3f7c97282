"""Issue #15: a template is bounded in memory and time, not only in what Python it may reach. Each costly
construct is refused with its file and line by `tocsin template check` (and so by drafting), quickly and
without allocating what it asks for."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tocsin.templates import limits
from tocsin.templates.loader import BUILTIN_ROOT, check_folder

from tests.helpers import ok, run_cli

LINE = 5  # the attack goes on this line of status_update/en.txt.j2 (inside the `changes` block)


@pytest.fixture
def template(tmp_path: Path) -> Path:
    root = tmp_path / "my-templates"
    shutil.copytree(BUILTIN_ROOT / "status_update", root / "status_update")
    return root


def _with(root: Path, expression: str) -> Path:
    file = root / "status_update" / "en.txt.j2"
    lines = file.read_text().splitlines(keepends=True)
    assert lines[LINE - 1].startswith("{{ what_changed }}")
    lines[LINE - 1] = expression + "\n"
    file.write_text("".join(lines))
    return file


@pytest.mark.parametrize(
    ("expression", "refusal"),
    [
        ("{{ ('a'*10**9)|length }}{{ what_changed }}", "the repeated value would be 1,000,000,000 long"),
        ("{{ (7 ** 999999999) % 5 }}{{ what_changed }}", "7 ** 999999999 is too large a number"),
        ("{{ 'a'|center(10**9) }}{{ what_changed }}", "filter center with 1,000,000,000"),
        ("{{ 'a'.ljust(999999999) }}{{ what_changed }}", "str.ljust with 999,999,999"),
        ("{{ '%999999999d' % 1 }}{{ what_changed }}", "a format width over 1000"),
        ("{{ '{:>999999999}'.format(1) }}{{ what_changed }}", "a format width over 1000"),
        (
            "{% set s = 'a'*99999 %}{% set s = s ~ s %}{{ s|length }}{{ what_changed }}",
            "the text joined with ~ would be 199,998 long",
        ),
        ("{% set s = 'ab'*50000 %}{{ s|replace('a', s)|length }}{{ what_changed }}", "the result of replace"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{{ what_changed }}",
            "loops more than 1,000,000 times",
        ),
        (
            "{% for i in range(100000) %}{{ 'x'*99999 }}{% endfor %}{{ what_changed }}",
            "the rendered text is longer than 1,000,000 characters",
        ),
    ],
)
def test_costly_templates_are_refused_with_file_and_line(template: Path, expression: str, refusal: str) -> None:
    _with(template, expression)
    problems = [str(p) for p in check_folder(template / "status_update")[1]]
    assert problems, "the template was accepted"
    assert problems[0].startswith(f"status_update/en.txt.j2:{LINE}: refused by the sandbox: "), problems
    assert refusal in problems[0]


def test_the_cli_check_exits_2_and_names_the_file(template: Path) -> None:
    _with(template, "{{ ('a'*10**9)|length }}{{ what_changed }}")
    refused = run_cli("template", "check", str(template))
    assert refused.exit_code == 2
    assert f"status_update/en.txt.j2:{LINE}: refused by the sandbox: the repeated value" in refused.stderr


def test_a_slow_template_meets_the_deadline(template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_SECONDS", 0.0)  # any loop is past the deadline (no timing in tests)
    _with(template, "{% for i in range(5000) %}{% endfor %}{{ what_changed }}")
    problems = [str(p) for p in check_folder(template / "status_update")[1]]
    assert problems and "took longer than 0 s to render" in problems[0]


def test_ordinary_templates_still_render(template: Path) -> None:
    _with(template, "{{ what_changed }} {{ '%5d'|format(12) }} {{ 'ab' * 3 }} {{ 2 ** 10 }} {{ [1, 2] + [3] }}")
    assert check_folder(template / "status_update")[1] == []
    ok("template", "check", str(template))
    names, problems = check_folder(BUILTIN_ROOT)
    assert problems == [] and "customer_notice" in names
