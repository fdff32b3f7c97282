"""Templates are validated at load: syntax, undeclared variables, sandbox escapes, required sections."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tocsin.templates.loader import BUILTIN_ROOT, check_folder, load_template
from tocsin.templates.problems import TemplateInvalid

from tests.helpers import ok, run_cli


@pytest.fixture
def user_templates(tmp_path: Path) -> Path:
    """A user-editable copy of the built-in templates."""
    root = tmp_path / "my-templates"
    for name in ("regulator_notice", "customer_notice"):
        shutil.copytree(BUILTIN_ROOT / name, root / name)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def problems_of(root: Path) -> list[str]:
    return [str(p) for p in check_folder(root)[1]]


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_every_built_in_template_validates() -> None:
    names, problems = check_folder(BUILTIN_ROOT)
    assert problems == []
    assert {
        "regulator_notice",
        "regulator_followup",
        "customer_notice",
        "us_individual_notice",
        "holding_statement",
        "internal_brief",
        "status_update",
    } <= set(names)
    assert {"en", "de", "fr"} <= set(load_template("customer_notice").manifest.locales)


def test_a_regulator_notice_without_an_art_33_3_item_fails_and_says_which(user_templates: Path) -> None:
    file = user_templates / "regulator_notice" / "en.txt.j2"
    text = file.read_text()
    start, end = (
        text.index("{% block consequences %}"),
        text.index("{% endblock %}", text.index("{% block consequences")),
    )
    file.write_text(text[:start] + text[end + len("{% endblock %}") :])
    problems = problems_of(user_templates)
    assert problems == [
        "regulator_notice/en.txt.j2: required section 'consequences' is missing "
        "(Art. 33(3)(c): likely consequences of the breach); "
        "wrap it in {% block consequences %}...{% endblock %}"
    ]


def test_a_section_that_no_longer_shows_its_variable_fails(user_templates: Path) -> None:
    file = user_templates / "regulator_notice" / "de.html.j2"
    edit(file, "{{ measures_taken | paragraphs }}", "<p>Siehe Anlage.</p>")
    line = line_of(file, "{% block measures %}")
    assert problems_of(user_templates) == [
        f"regulator_notice/de.html.j2:{line}: section 'measures' (Art. 33(3)(d): measures taken or proposed "
        "to address the breach) does not show 'measures_taken'"
    ]


def test_a_section_that_renders_empty_fails(user_templates: Path) -> None:
    file = user_templates / "regulator_notice" / "fr.txt.j2"
    edit(
        file,
        "{{ likely_consequences }}\n{% endblock %}",
        "{% if false %}{{ likely_consequences }}{% endif %}\n{% endblock %}",
    )
    assert problems_of(user_templates) == [
        "regulator_notice/fr.txt.j2: required section 'consequences' (Art. 33(3)(c): likely consequences of "
        "the breach) is empty"
    ]


def test_a_syntax_error_names_the_template_and_line(user_templates: Path) -> None:
    file = user_templates / "customer_notice" / "de.txt.j2"
    edit(file, "{% if data_not_affected %}", "{% if data_not_affected %}{% endfor %}")
    line = line_of(file, "{% endfor %}")
    (problem,) = problems_of(user_templates)
    assert problem.startswith(f"customer_notice/de.txt.j2:{line}: syntax error:")


def test_a_variable_the_manifest_does_not_declare_is_an_error_with_its_line(user_templates: Path) -> None:
    file = user_templates / "customer_notice" / "en.txt.j2"
    edit(file, "Dear customer,", "Dear {{ customer_name }},")
    assert problems_of(user_templates) == [
        "customer_notice/en.txt.j2:1: variable 'customer_name' is not declared in customer_notice/template.yaml"
    ]


def test_a_missing_attribute_fails_at_the_example_render_with_its_line(user_templates: Path) -> None:
    file = user_templates / "customer_notice" / "fr.html.j2"
    edit(file, "<p>{{ organisation }}</p>", "<p>{{ organisation.legal_name }}</p>")
    line = line_of(file, "organisation.legal_name")
    (problem,) = problems_of(user_templates)
    assert problem.startswith(f"customer_notice/fr.html.j2:{line}: undefined value:")
    assert "legal_name" in problem


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ organisation.__class__.__base__.__subclasses__() }}",
        "{{ organisation['__class__'] }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_reaching_python_internals_is_refused_at_validation(user_templates: Path, escape: str) -> None:
    file = user_templates / "regulator_notice" / "en.txt.j2"
    edit(file, "Our reference: {{ incident_ref }}", f"Our reference: {{{{ incident_ref }}}} {escape}")
    line = line_of(file, "Our reference:")
    problems = problems_of(user_templates)
    assert problems and all(p.startswith(f"regulator_notice/en.txt.j2:{line}: access to ") for p in problems)
    assert "cannot reach Python internals" in problems[0]


def test_an_escape_hidden_from_the_static_check_is_refused_by_the_sandbox(user_templates: Path) -> None:
    file = user_templates / "customer_notice" / "en.txt.j2"
    edit(file, "We found out on {{ aware_on }}.", "We found out on {{ aware_on | attr('__cla' ~ 'ss__') }}.")
    line = line_of(file, "attr('__cla'")
    (problem,) = problems_of(user_templates)
    assert problem.startswith(f"customer_notice/en.txt.j2:{line}: refused by the sandbox:")


def test_manifest_problems_are_reported(user_templates: Path) -> None:
    manifest = user_templates / "customer_notice" / "template.yaml"
    edit(manifest, "audience: individuals", "audience: everyone")
    edit(manifest, "locales: [en, de, fr]", "locales: [en, de, fr, it]")
    problems = problems_of(user_templates)
    assert any(p.startswith("customer_notice/template.yaml: audience:") for p in problems)


def test_a_locale_without_its_files_fails(user_templates: Path) -> None:
    edit(user_templates / "customer_notice" / "template.yaml", "locales: [en, de, fr]", "locales: [en, de, fr, it]")
    assert problems_of(user_templates) == [
        f"customer_notice/it.{part}.j2: missing: locale 'it' needs a {part} part" for part in ("subject", "txt", "html")
    ]


def test_template_check_cli_exits_2_with_file_and_line(user_templates: Path) -> None:
    assert "2 template(s) ok" in ok("template", "check", str(user_templates)).stdout
    file = user_templates / "regulator_notice" / "en.html.j2"
    edit(file, "<h1>", "<h1>{{ ''.__class__ }}")
    line = line_of(file, "<h1>")
    result = run_cli("template", "check", str(user_templates))
    assert result.exit_code == 2
    assert f"{user_templates}/regulator_notice/en.html.j2:{line}: access to '__class__' is refused" in result.stderr
    single = run_cli("template", "check", str(user_templates / "regulator_notice"))
    assert single.exit_code == 2 and f"regulator_notice/en.html.j2:{line}" in single.stderr


def test_drafting_from_a_broken_user_template_is_refused(user_templates: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edit(user_templates / "customer_notice" / "en.txt.j2", "What happened", "{{ 1 +  }}")
    monkeypatch.setenv("TOCSIN_TEMPLATES_DIR", str(user_templates))
    with pytest.raises(TemplateInvalid) as refused:
        load_template("customer_notice")
    assert refused.value.where is not None and refused.value.where.startswith("customer_notice/en.txt.j2:")
    assert load_template("internal_brief").root == BUILTIN_ROOT  # the built-in ones still serve the rest
    listed = {row["name"]: row for row in ok("templates", "--json").json()}
    assert listed["customer_notice"]["folder"] == str(user_templates / "customer_notice")
