"""Finding, loading and validating templates. A template is a folder: `template.yaml` plus
`<locale>.subject.j2`, `<locale>.txt.j2` and `<locale>.html.j2` for every locale it offers.

Validation compiles every file, runs the static checks, then renders every locale against the
manifest's example variables, so a template that would fail for a real incident fails here first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from jinja2 import Template, TemplateSyntaxError
from pydantic import ValidationError
from tocsin.templates.checks import missing_sections, undeclared_variables, unsafe_access
from tocsin.templates.manifest import PARTS, Manifest, file_name
from tocsin.templates.problems import Problem, TemplateInvalid
from tocsin.templates.sandbox import make_environment

from tocsin.core.errors import InvalidInput, NotFound

BUILTIN_ROOT = Path(__file__).resolve().parent
MANIFEST = "template.yaml"
# A folder of user-edited templates; a template there replaces the built-in one of the same name.
TEMPLATES_DIR_ENV = "TOCSIN_TEMPLATES_DIR"


@dataclass(frozen=True)
class LoadedTemplate:
    manifest: Manifest
    root: Path
    parts: dict[tuple[str, str], Template]  # (locale, part) -> compiled template

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version


def template_roots() -> list[Path]:
    override = os.environ.get(TEMPLATES_DIR_ENV)
    return [Path(override).expanduser(), BUILTIN_ROOT] if override else [BUILTIN_ROOT]


def template_names(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(child.name for child in root.iterdir() if (child / MANIFEST).is_file())


def available(roots: list[Path] | None = None) -> dict[str, Path]:
    """Template name -> the root it is loaded from (the first root that has it wins)."""
    found: dict[str, Path] = {}
    for root in roots or template_roots():
        for name in template_names(root):
            found.setdefault(name, root)
    return dict(sorted(found.items()))


def read_manifest(root: Path, name: str) -> tuple[Manifest | None, list[Problem]]:
    file = f"{name}/{MANIFEST}"
    try:
        document = yaml.safe_load((root / file).read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        return None, [Problem(file, line, f"invalid YAML: {error.problem}")]
    except (OSError, yaml.YAMLError) as error:
        return None, [Problem(file, None, f"cannot read: {error}")]
    if not isinstance(document, dict):
        return None, [Problem(file, None, "expected a mapping at the top level")]
    try:
        manifest = Manifest.model_validate(document)
    except ValidationError as error:
        return None, [
            Problem(file, None, f"{'.'.join(str(p) for p in issue['loc']) or 'manifest'}: {issue['msg']}")
            for issue in error.errors()
        ]
    if manifest.name != name:
        return None, [Problem(file, None, f"name is {manifest.name!r} but the folder is {name!r}; make them equal")]
    return manifest, []


def compile_template(root: Path, name: str) -> tuple[LoadedTemplate | None, list[Problem]]:
    """Compile and statically check every file of one template (no rendering)."""
    manifest, problems = read_manifest(root, name)
    if manifest is None:
        return None, problems
    environment = make_environment(root)
    parts: dict[tuple[str, str], Template] = {}
    for locale in manifest.locales:
        for part in PARTS:
            relative = f"{name}/{file_name(locale, part)}"
            path = root / relative
            if not path.is_file():
                problems.append(Problem(relative, None, f"missing: locale {locale!r} needs a {part} part"))
                continue
            source = path.read_text(encoding="utf-8")
            try:
                tree = environment.parse(source, relative, str(path))
            except TemplateSyntaxError as error:
                problems.append(Problem(relative, error.lineno, f"syntax error: {error.message}"))
                continue
            found = unsafe_access(tree, relative) + undeclared_variables(tree, relative, manifest)
            if part != "subject":
                found += missing_sections(tree, relative, manifest)
            problems += found
            if not found:  # compile the tree already parsed (parsing is half the cost)
                code = environment.compile(tree, relative, str(path))
                parts[(locale, part)] = environment.template_class.from_code(
                    environment, code, environment.make_globals(None)
                )
    if problems:
        return None, problems
    return LoadedTemplate(manifest, root, parts), []


def validate(root: Path, name: str) -> tuple[LoadedTemplate | None, list[Problem]]:
    """Compile, check, then render every locale with the manifest's example variables."""
    from tocsin.templates.render import prepare_variables, render

    loaded, problems = compile_template(root, name)
    if loaded is None:
        return None, problems
    try:
        examples = prepare_variables(loaded.manifest, loaded.manifest.example_variables())
    except InvalidInput as error:  # the manifest's own examples do not fit its variables
        return None, [Problem(f"{name}/{MANIFEST}", None, f"examples: {error}")]
    for locale in loaded.manifest.locales:
        try:
            render(loaded, locale, examples)
        except TemplateInvalid as error:
            problems += error.problems
    return (None, problems) if problems else (loaded, [])


_validated: dict[tuple[Path, str], tuple[tuple[tuple[str, int, int], ...], LoadedTemplate]] = {}


def _fingerprint(folder: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple(sorted((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in folder.iterdir() if f.is_file()))


def load_template(name: str, roots: list[Path] | None = None) -> LoadedTemplate:
    """The named template, validated; refuses with `file:line` if it is broken.

    A long-running process validates a template again only when one of its files changed.
    """
    found = available(roots)
    if name not in found:
        raise NotFound(f"no template {name!r}; available: {', '.join(found) or 'none'}")
    root = found[name]
    fingerprint = _fingerprint(root / name)
    cached = _validated.get((root, name))
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    loaded, problems = validate(root, name)
    if loaded is None:
        raise TemplateInvalid(problems)
    _validated[(root, name)] = (fingerprint, loaded)
    return loaded


def check_folder(path: Path) -> tuple[list[str], list[Problem]]:
    """Validate a templates folder, or a single template folder. Returns (names checked, problems)."""
    path = path.expanduser()
    if (path / MANIFEST).is_file():
        root, names = path.parent, [path.name]
    else:
        root, names = path, template_names(path)
    problems: list[Problem] = []
    for name in names:
        problems += validate(root, name)[1]
    return names, problems
