"""One dependency direction between the apps: coordination imports maps, maps never imports coordination.

(maps' models name coordination.Organization as a string foreign key; that is the model graph, which
Django resolves through its app registry, not a Python import.)
"""

import ast
from pathlib import Path

MAPS = Path(__file__).resolve().parents[1] / "maps"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_module_of_maps_imports_coordination():
    offenders = {
        str(path.relative_to(MAPS.parent)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] == "coordination"
        )
        for path in MAPS.rglob("*.py")
        if "migrations" not in path.parts
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}
