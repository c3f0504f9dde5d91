"""Who may import whom (DESIGN.md): a test keeps the folder map true."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED: dict[str, set[str]] = {
    "api": {"workers", "answer", "retrieval", "acl", "index", "ingest", "core"},
    "workers": {"ingest", "index", "acl", "core"},
    "answer": {"retrieval", "core"},
    "retrieval": {"index", "acl", "core"},
    "index": {"core"},
    "acl": {"core"},
    "ingest": {"core"},
    "core": set(),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_design_allows(package: str) -> None:
    bad = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        illegal = _imports(path) - ALLOWED[package] - {package}
        if illegal:
            bad[str(path.relative_to(ROOT))] = sorted(illegal)
    assert not bad, f"imports the folder map forbids: {bad}"
