"""The library's layers: tasks → models → analysis → studies → runtime → views → ui → apps, where the
runtime (runner, store, sweeps, landscape tracker) knows no particular study: a study brings what is
particular to it (its sweep's measure, its landscape probe) through the Study contract."""
import ast
from pathlib import Path

import pytest

SANDBOX = Path(__file__).resolve().parents[1] / "sandbox"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at module level or inside functions, as an absolute name."""
    package = "sandbox." + ".".join(path.relative_to(SANDBOX).parent.parts)
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rstrip(".").split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                names.add(".".join(base + ([node.module] if node.module else [])))
            else:
                names.add(node.module)
    return names


@pytest.mark.parametrize("layer, forbidden", [("runtime", ("sandbox.studies", "sandbox.views", "sandbox.ui")),
                                              ("analysis", ("sandbox.studies", "sandbox.runtime", "sandbox.ui")),
                                              ("models", ("sandbox.studies", "sandbox.runtime", "sandbox.ui")),
                                              ("serving", ("sandbox.studies", "sandbox.runtime", "sandbox.views",
                                                           "sandbox.ui", "sandbox.models", "sandbox.analysis"))])
def test_a_lower_layer_imports_nothing_from_a_higher_one(layer, forbidden):
    found = {f"{path.name}: {name}" for path in (SANDBOX / layer).glob("*.py") for name in imported_modules(path)
             if name and name.startswith(forbidden)}
    assert not found, sorted(found)
