"""ingest's public face: its exported names, what it may import, and that importing is free."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ingest

INGEST = Path(ingest.__file__).parent
FORBIDDEN = {"index", "acl", "answer", "retrieval", "api", "workers"}


def test_public_names_are_exported_and_exist() -> None:
    assert sorted(ingest.__all__) == sorted(set(ingest.__all__))
    for name in ingest.__all__:
        assert getattr(ingest, name) is not None
    assert {"parse_document", "chunk_elements", "embedding_text", "document_text",
            "mime_type_for", "Connector", "ConnectorFailure", "MiniLMTokenCounter",
            "push_document", "FilesystemConnector", "register_parser",
            "create_connector"} <= set(ingest.__all__)


def test_ingest_imports_only_core_among_our_packages() -> None:
    offenders = []
    for path in INGEST.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            offenders += [f"{path.name}: {m}" for m in modules if m.split(".")[0] in FORBIDDEN]

    assert offenders == []


def test_importing_ingest_loads_no_heavy_library() -> None:
    heavy = ["unstructured", "spacy", "pypdfium2", "tokenizers", "docx", "pptx", "bs4"]
    script = f"import sys, ingest; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=INGEST.parent, check=True, timeout=120)

    assert result.stdout.strip() == "[]"
