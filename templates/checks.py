"""Static checks on a parsed template: what it may reach, which variables it uses, and whether the
sections its manifest requires are there. No rendering here (see validate.py for that)."""

from __future__ import annotations

from jinja2 import meta, nodes
from tocsin.templates.manifest import Manifest
from tocsin.templates.problems import Problem
from tocsin.templates.sandbox import BUILTIN_NAMES


def unsafe_access(tree: nodes.Template, file: str) -> list[Problem]:
    """`x._y`, `x['_y']` and `x.__class__` reach Python internals: refused before anything renders."""
    found: list[Problem] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            name = node.arg.value
        else:
            continue
        if name.startswith("_"):
            found.append(
                Problem(file, node.lineno, f"access to {name!r} is refused: templates cannot reach Python internals")
            )
    return found


def undeclared_variables(tree: nodes.Template, file: str, manifest: Manifest) -> list[Problem]:
    """Every variable a template reads must be declared in template.yaml (catches typos at load)."""
    unknown = meta.find_undeclared_variables(tree) - set(manifest.variables) - BUILTIN_NAMES
    found = []
    for name in sorted(unknown):
        line = next((n.lineno for n in tree.find_all(nodes.Name) if n.name == name), None)
        found.append(Problem(file, line, f"variable {name!r} is not declared in {manifest.name}/template.yaml"))
    return found


def missing_sections(tree: nodes.Template, file: str, manifest: Manifest) -> list[Problem]:
    """Each required section is a block that exists and reads the variables the manifest says it must."""
    blocks = {block.name: block for block in tree.find_all(nodes.Block)}
    found = []
    for section in manifest.sections:
        block = blocks.get(section.name)
        if block is None:
            found.append(
                Problem(
                    file,
                    None,
                    f"required section {section.name!r} is missing ({section.title}); "
                    f"wrap it in {{% block {section.name} %}}...{{% endblock %}}",
                )
            )
            continue
        read = {n.name for n in block.find_all(nodes.Name) if n.ctx == "load"}
        for variable in section.uses:
            if variable not in read:
                found.append(
                    Problem(
                        file, block.lineno, f"section {section.name!r} ({section.title}) does not show {variable!r}"
                    )
                )
    return found
