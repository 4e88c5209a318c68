"""How the package's modules may import each other (STYLE.md): one way, and no circles."""

from __future__ import annotations

import ast
from pathlib import Path

from grader.config import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "grader"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """The package's modules that ``path`` imports when it runs, function-local imports included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
        for node in ast.walk(block)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from package import module`` needs the module, not what the package's __init__ defines.
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & MODULES.keys()
            found.update(submodules)
            if len(submodules) < len(node.names):
                found.add(node.module)
    return {name for name in found if name in MODULES}


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _circles() -> list[list[str]]:
    """Every import circle, as the path that closes it."""
    circles: list[list[str]] = []
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        for target in sorted(GRAPH[name]):
            if target in path:
                circles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(name)

    for name in sorted(GRAPH):
        if name not in done:
            visit(name, [name])
    return circles


def test_no_module_imports_itself_back_through_others() -> None:
    assert [" -> ".join(circle) for circle in _circles()] == []


def test_the_grading_core_imports_nothing_outside_itself() -> None:
    outside = {
        name: sorted(target for target in targets if not target.startswith("grader.grading"))
        for name, targets in GRAPH.items()
        if name.startswith("grader.grading")
    }
    assert {name: targets for name, targets in outside.items() if targets} == {}


def test_services_never_import_the_web_layer() -> None:
    upward = {
        name: sorted(target for target in targets if target.startswith("grader.web"))
        for name, targets in GRAPH.items()
        if name.startswith("grader.services")
    }
    assert {name: targets for name, targets in upward.items() if targets} == {}


# Modules that touch the environment for a reason of their own, not to read a setting.
ENVIRONMENT_EXCEPTIONS = {
    "grader.config": "the settings: the one reader of the environment",
    "grader.grading.selftest": "plants a canary variable for its hostile programs to look for, then restores it",
    "grader.grading.template_boot": "runs inside the sandbox: gives each forked grading the sandbox's own environment",
}


def _reads_environment(path: Path) -> list[int]:
    """Lines of ``path`` that read ``os.environ`` or call ``os.getenv``."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            if node.attr in ("environ", "getenv", "environb", "getenvb"):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and {alias.name for alias in node.names} & {"environ", "getenv"}
        ):
            lines.append(node.lineno)
    return lines


def test_only_the_settings_read_the_environment() -> None:
    readers = {
        name: lines
        for name, path in MODULES.items()
        if name not in ENVIRONMENT_EXCEPTIONS and (lines := _reads_environment(path))
    }
    assert readers == {}
