"""The layout the design card fixes: apps import one way, and nothing imports in a circle.

accounts ← billing ← articles, with config above them all (it wires URLs, settings and
middleware). Read from the source with ast, so an import inside a function counts as much
as one at the top.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ["accounts", "billing", "articles", "config"]
# What each may import of the project: the apps below it, never above.
ALLOWED = {
    "accounts": {"accounts"},
    "billing": {"accounts", "billing"},
    "articles": {"accounts", "billing", "articles"},
    "config": {"accounts", "billing", "articles", "config"},
}
# The stand-in, the benchmarks and the tests are tools that know the site; being in no app's
# ALLOWED set, none of them may be imported by an app.
PROJECT = {*APPS, "stripe_standin", "bench", "tests"}


def modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield name.removesuffix(".__init__"), path


def imported(name: str, path: Path) -> set[str]:
    """The project modules `name` imports, anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            submodules = {f"{base}.{alias.name}" for alias in node.names} & FILES
            # `from package import module` imports that module (and runs the package's __init__,
            # which imports nothing of its modules' users); `from module import name`, the module
            found |= submodules or {base}
    return {module for module in found if module.split(".")[0] in PROJECT}


FILES = {name for name, _ in modules()}
GRAPH = {name: imported(name, path) for name, path in modules()}


def test_each_app_imports_only_the_apps_below_it():
    wrong = [
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if target.split(".")[0] not in ALLOWED[name.split(".")[0]]
    ]
    assert wrong == []


def test_no_module_imports_itself_through_others():
    edges = {
        name: {t for t in targets if t in GRAPH and t != name} for name, targets in GRAPH.items()
    }
    cycles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for target in sorted(edges[node]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_no_private_part_of_the_stripe_sdk_is_used():
    private = [
        f"{name} imports {target}"
        for name, path in modules()
        for target in imported_anything(path)
        if target.startswith("stripe._")
    ]
    assert private == []


def imported_anything(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found
