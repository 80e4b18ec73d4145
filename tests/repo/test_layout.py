"""The tree reads as it should: short modules, no import cycle, and tests/ that mirrors what
it covers (a test file per module, named after it)."""

import ast

import pytest

from harness.stack import ROOT

LIMITS = {"app": 250, "rdsctl": 300}


@pytest.mark.parametrize("package", sorted(LIMITS))
def test_no_module_is_longer_than_its_limit(package):
    long = {
        p.name: n
        for p in (ROOT / package).glob("*.py")
        if (n := len(p.read_text().splitlines())) > LIMITS[package]
    }
    assert long == {}, f"split these modules of {package}/ (at most {LIMITS[package]} lines)"


def imported(package: str, path) -> set[str]:
    """The modules of `package` that the module at `path` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == package:
                found |= {alias.name for alias in node.names}
            elif node.module.startswith(f"{package}."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith(f"{package}.")}
    return found


@pytest.mark.parametrize("package", sorted(LIMITS))
def test_no_import_cycle(package):
    modules = {p.stem: p for p in (ROOT / package).glob("*.py")}
    graph = {name: imported(package, path) & set(modules) for name, path in modules.items()}

    def cycle_from(name, path):
        for other in sorted(graph[name]):
            if other in path:
                return [*path[path.index(other) :], other]
            found = cycle_from(other, [*path, other])
            if found:
                return found
        return None

    for name in sorted(graph):
        cycle = cycle_from(name, [name])
        assert cycle is None, " -> ".join(cycle)


# The suites that test modules, and where their modules are: tests/rdsctl also holds the AWS
# half of app/ (credentials from Secrets Manager against moto and the stand-in); test_migrations
# covers the migrations/ folder as a whole.
MIRRORS = {"app": ["app"], "rdsctl": ["rdsctl", "app"]}
FOLDERS = {"migrations"}


@pytest.mark.parametrize("suite", sorted(MIRRORS))
def test_each_test_file_is_named_after_the_module_it_covers(suite):
    def covers(name: str) -> bool:
        return name in FOLDERS or any((ROOT / d / f"{name}.py").exists() for d in MIRRORS[suite])

    stray = [p.name for p in (ROOT / "tests" / suite).glob("test_*.py") if not covers(p.stem[5:])]
    assert stray == [], f"name these after the module of {MIRRORS[suite]} they test"
