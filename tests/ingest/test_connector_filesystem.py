"""A folder tree as a source: folder ACL files, inheritance, and per-file failures."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.errors import InputError
from core.types import Acl, RawDocument
from ingest.chunk import chunk_elements
from ingest.connectors import ConnectorFailure, FilesystemConnector, create_connector
from ingest.parse import parse_document
from ingest.tokens import MiniLMTokenCounter

from ._make import HTML, MARKDOWN, docx_bytes, pdf_bytes, pptx_bytes

LIMIT = 10_000_000


def write(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def acl_file(folder: Path, **rules: object) -> None:
    write(folder / ".acl.json", json.dumps(rules))


def crawl(root: Path, max_bytes: int = LIMIT) -> dict[str, RawDocument | ConnectorFailure]:
    return {item.external_id: item
            for item in FilesystemConnector(root=root, max_bytes=max_bytes).documents()}


def docs(results: dict[str, RawDocument | ConnectorFailure]) -> dict[str, RawDocument]:
    return {k: v for k, v in results.items() if isinstance(v, RawDocument)}


def failures(results: dict[str, RawDocument | ConnectorFailure]) -> dict[str, str]:
    return {k: v.code for k, v in results.items() if isinstance(v, ConnectorFailure)}


def test_sub_folder_allow_replaces_the_inherited_one_and_deny_accumulates(tmp_path: Path) -> None:
    acl_file(tmp_path, allow=["group:staff"], deny=["user:Mallory@x.test"])
    write(tmp_path / "welcome.txt", "Welcome.")
    acl_file(tmp_path / "hr", allow=["group:hr"])
    write(tmp_path / "hr" / "salaries.md", "# Pay")
    acl_file(tmp_path / "hr" / "exec", deny=["user:bob@x.test"])
    write(tmp_path / "hr" / "exec" / "bonus.html", "<p>Bonus</p>")
    write(tmp_path / "public" / "guide.txt", "Guide.")

    acls = {k: d.acl for k, d in docs(crawl(tmp_path)).items()}

    assert acls == {
        "welcome.txt": Acl.of(["group:staff"], ["user:mallory@x.test"]),
        "hr/salaries.md": Acl.of(["group:hr"], ["user:mallory@x.test"]),
        "hr/exec/bonus.html": Acl.of(["group:hr"], ["user:mallory@x.test", "user:bob@x.test"]),
        "public/guide.txt": Acl.of(["group:staff"], ["user:mallory@x.test"]),
    }


def test_a_sub_folder_cannot_lift_a_deny_made_above_it(tmp_path: Path) -> None:
    acl_file(tmp_path, allow=["everyone"], deny=["group:contractors"])
    acl_file(tmp_path / "open", allow=["everyone", "group:contractors"], deny=[])
    write(tmp_path / "open" / "a.txt", "A.")

    acl = docs(crawl(tmp_path))["open/a.txt"].acl

    assert acl is not None and "group:contractors" in acl.deny
    assert not acl.permits(frozenset({"everyone", "group:contractors"}))


def test_files_with_no_acl_up_to_the_root_are_readable_by_nobody(tmp_path: Path) -> None:
    write(tmp_path / "a" / "b.txt", "Orphan.")
    acl_file(tmp_path / "a", deny=["user:x@x.test"])

    assert docs(crawl(tmp_path))["a/b.txt"].acl is None


def test_a_malformed_acl_file_fails_every_file_beneath_it(tmp_path: Path) -> None:
    acl_file(tmp_path, allow=["everyone"])
    write(tmp_path / "fine.txt", "Fine.")
    write(tmp_path / "broken" / ".acl.json", '{"allow": ["group:a",]')
    write(tmp_path / "broken" / "a.txt", "A.")
    acl_file(tmp_path / "broken" / "sub", allow=["group:b"])
    write(tmp_path / "broken" / "sub" / "b.txt", "B.")

    results = crawl(tmp_path)

    assert failures(results) == {"broken/a.txt": "acl_invalid", "broken/sub/b.txt": "acl_invalid"}
    message = results["broken/a.txt"].message  # type: ignore[union-attr]
    assert "broken/.acl.json" in message and "not valid JSON" in message
    assert list(docs(results)) == ["fine.txt"]


@pytest.mark.parametrize(
    "content",
    ['{"alow": ["everyone"]}', '["everyone"]', '{"allow": "everyone"}', '{"allow": ["bob"]}',
     '{"deny": [null]}', "\xff\xfe"],
)
def test_acl_files_that_do_not_say_exactly_allow_and_deny_are_invalid(
    tmp_path: Path, content: str
) -> None:
    write(tmp_path / ".acl.json", content.encode("latin-1"))
    write(tmp_path / "a.txt", "A.")

    assert failures(crawl(tmp_path)) == {"a.txt": "acl_invalid"}


def test_hidden_files_folders_and_acl_files_are_skipped(tmp_path: Path) -> None:
    acl_file(tmp_path, allow=["everyone"])
    write(tmp_path / ".secret.txt", "Hidden.")
    write(tmp_path / ".git" / "notes.txt", "Hidden too.")
    write(tmp_path / "visible.txt", "Visible.")

    assert list(crawl(tmp_path)) == ["visible.txt"]


def test_unknown_extensions_are_reported_as_unsupported(tmp_path: Path) -> None:
    write(tmp_path / "photo.png", b"\x89PNG")
    write(tmp_path / "Makefile", "all:")

    assert failures(crawl(tmp_path)) == {"photo.png": "unsupported_mime_type",
                                         "Makefile": "unsupported_mime_type"}


def test_oversize_file_is_a_failure_and_is_never_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "huge.txt"
    with big.open("wb") as handle:
        handle.truncate(1001)  # sparse: nothing is written
    write(tmp_path / "small.txt", "Small.")
    opened: list[str] = []
    real_open = os.open

    def recording_open(path: str, *args: Any, **kwargs: Any) -> int:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)

    results = crawl(tmp_path, max_bytes=1000)

    assert failures(results) == {"huge.txt": "payload_too_large"}
    assert opened == [str(tmp_path / "small.txt")]


def test_symbolic_links_are_reported_not_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside" / "secret.txt", "Outside the root.")
    root = tmp_path / "root"
    acl_file(root, allow=["everyone"])
    (root / "link.txt").symlink_to(outside)
    (root / "linked-dir").symlink_to(outside.parent, target_is_directory=True)

    results = crawl(root)

    assert failures(results) == {"link.txt": "invalid_input", "linked-dir": "invalid_input"}


def test_symlinked_acl_file_is_invalid(tmp_path: Path) -> None:
    real = write(tmp_path / "elsewhere.json", json.dumps({"allow": ["everyone"]}))
    root = tmp_path / "root"
    write(root / "a.txt", "A.")
    (root / ".acl.json").symlink_to(real)

    assert failures(crawl(root)) == {"a.txt": "acl_invalid"}


def test_ids_titles_urls_and_times_come_from_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "Team Notes" / "Q3 plan.v2.md", "Plan, no heading")
    os.utime(path, (1_700_000_000, 1_700_000_000))

    doc = docs(crawl(tmp_path))["Team Notes/Q3 plan.v2.md"]

    assert (doc.title, doc.mime_type) == ("Q3 plan.v2", "text/markdown")
    assert doc.url == path.resolve().as_uri() and doc.url.startswith("file:///")
    assert doc.updated_at == datetime.fromtimestamp(1_700_000_000, tz=UTC)


def test_order_is_stable_files_first_then_sub_folders_by_name(tmp_path: Path) -> None:
    for name in ["b/z.txt", "b/a.txt", "a/x.txt", "m.txt", "c.txt", "a/sub/y.txt"]:
        write(tmp_path / name, "x")

    assert list(crawl(tmp_path)) == ["c.txt", "m.txt", "a/x.txt", "a/sub/y.txt", "b/a.txt",
                                     "b/z.txt"]


def test_every_supported_file_in_a_tree_parses_and_chunks(
    tmp_path: Path, minilm: MiniLMTokenCounter
) -> None:
    acl_file(tmp_path, allow=["everyone"])
    files = {"notes.txt": b"Plain notes.\n\nMore.", "guide.md": MARKDOWN.encode(),
             "page.html": HTML.encode(), "memo.docx": docx_bytes(), "deck.pptx": pptx_bytes(),
             "policy.pdf": pdf_bytes()}
    for name, content in files.items():
        write(tmp_path / "docs" / name, content)

    found = docs(crawl(tmp_path))

    assert sorted(found) == sorted(f"docs/{name}" for name in files)
    for doc in found.values():
        elements = parse_document(doc, max_bytes=LIMIT)
        chunks = chunk_elements(elements, doc_id="d", title=doc.title, count_tokens=minilm)
        assert chunks, doc.external_id


def test_a_missing_root_is_an_error_of_the_source_not_of_an_item(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        list(FilesystemConnector(root=tmp_path / "nope", max_bytes=10).documents())


def test_filesystem_connector_is_built_from_source_config(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "A.")

    connector = create_connector("filesystem", {"root": str(tmp_path)}, max_bytes=10)

    assert isinstance(connector, FilesystemConnector)
    assert [item.external_id for item in connector.documents()] == ["a.txt"]
    with pytest.raises(InputError, match=r"config\.root"):
        create_connector("filesystem", {}, max_bytes=10)


def test_titles_come_from_the_document_where_it_names_itself(tmp_path: Path) -> None:
    from ingest.connectors.filesystem import document_title

    md = "Intro line\n\n# PRJ-ORCA-7 — Status Report ##\n\nBody # not a heading\n".encode()
    assert document_title(Path("prj-orca-7.md"), md, "text/markdown") == \
        "PRJ-ORCA-7 — Status Report"
    page = b"<html><head><title>Travel &amp; Expenses</title></head><h1>Other</h1></html>"
    assert document_title(Path("t.html"), page, "text/html") == "Travel & Expenses"
    assert document_title(Path("t.html"), b"<h1>The <b>Austin</b>\n office</h1>",
                          "text/html") == "The Austin office"
    assert document_title(Path("notes.md"), b"no heading here", "text/markdown") == "notes"
    assert document_title(Path("faq.txt"), b"# looks like one", "text/plain") == "faq"
    assert document_title(Path("bad.md"), b"# \xff\xfe broken", "text/markdown") == \
        "\ufffd\ufffd broken"
