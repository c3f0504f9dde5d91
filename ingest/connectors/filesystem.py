"""A folder tree as a source: every supported file under ``root`` is a document.

- ``external_id`` is the path relative to the root in POSIX form; ``title`` a Markdown
  file's first heading or an HTML page's ``<title>``, else the file name without its
  extension; ``url`` a ``file://`` URI; ``updated_at`` the file's mtime (UTC).
- Access rules come from ``.acl.json`` files, inherited down the tree (``_acl_files.py``).
- Skipped without a word: hidden files and folders (names starting with "."), which
  includes the ACL files themselves.
- Reported as failures: files of an unknown type (``unsupported_mime_type``), files over
  ``max_bytes`` (``payload_too_large``, decided from their size without reading them),
  files under a broken ACL file (``acl_invalid``), symbolic links (never followed: a link
  could pull a file from outside the root in under this root's ACL), anything else that
  cannot be read (``invalid_input``).
Files come in a stable order: a folder's files by name, then its sub-folders by name.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import ClearanceError, DocumentTooLarge, InputError, UnsupportedMimeType
from core.types import RawDocument

from ..parse.registry import mime_type_for
from ._acl_files import ACL_FILE, FolderRules
from .base import ConnectorFailure

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


@dataclass(frozen=True)
class FilesystemConnector:
    root: Path
    max_bytes: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, max_bytes: int) -> FilesystemConnector:
        root = config.get("root")
        if not isinstance(root, str) or not root:
            raise InputError("a filesystem source needs config.root, the folder to index")
        return cls(root=Path(root), max_bytes=max_bytes)

    def documents(self) -> Iterator[RawDocument | ConnectorFailure]:
        if not self.root.is_dir():
            raise InputError(f"filesystem root {self.root} is not a folder")
        pending = [(self.root, FolderRules())]
        while pending:
            folder, inherited = pending.pop()
            rules = inherited.below(folder, label=self._relative(folder / ACL_FILE))
            subfolders: list[Path] = []
            yield from self._folder(folder, rules, subfolders)
            pending.extend((sub, rules) for sub in reversed(subfolders))

    def _folder(
        self, folder: Path, rules: FolderRules, subfolders: list[Path]
    ) -> Iterator[RawDocument | ConnectorFailure]:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            yield ConnectorFailure(self._relative(folder), InputError.code,
                                   f"could not list the folder ({type(exc).__name__})")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                yield ConnectorFailure(self._relative(path), InputError.code,
                                       "symbolic links are not followed")
            elif entry.is_dir(follow_symlinks=False):
                subfolders.append(path)
            else:
                yield self._file(path, rules)

    def _file(self, path: Path, rules: FolderRules) -> RawDocument | ConnectorFailure:
        external_id = self._relative(path)
        try:
            acl = rules.acl()
            mime_type = mime_type_for(path.name)
            if mime_type is None:
                raise UnsupportedMimeType(f"no parser for files named *{path.suffix or path.name}")
            content, modified = self._read(path)
        except ClearanceError as exc:
            return ConnectorFailure.of(external_id, exc)
        return RawDocument(
            external_id=external_id, title=document_title(path, content, mime_type),
            content=content, mime_type=mime_type,
            acl=acl, url=path.resolve().as_uri(), updated_at=modified,
        )

    def _read(self, path: Path) -> tuple[bytes, datetime]:
        try:
            stat = path.lstat()
            if not path.is_file():
                raise InputError("not a regular file")
            self._check_size(stat.st_size)
            descriptor = os.open(path, os.O_RDONLY | _NOFOLLOW)
            with os.fdopen(descriptor, "rb") as handle:
                content = handle.read(self.max_bytes + 1)
        except OSError as exc:
            raise InputError(f"could not read the file ({type(exc).__name__})") from exc
        self._check_size(len(content))
        return content, datetime.fromtimestamp(stat.st_mtime, tz=UTC)

    def _check_size(self, size: int) -> None:
        if size > self.max_bytes:
            raise DocumentTooLarge(f"file is over the limit of {self.max_bytes} bytes "
                                   "(CLEARANCE_MAX_UPLOAD_BYTES)")

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


_MD_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")


def document_title(path: Path, content: bytes, mime_type: str) -> str:
    """The title a reader sees: a Markdown file's first ``#`` heading or an HTML page's
    ``<title>`` (else its first ``<h1>``), else the file name without its extension."""
    head = content[:65_536].decode("utf-8", errors="replace")
    found: str | None = None
    if mime_type == "text/markdown":
        match = _MD_HEADING.search(head)
        found = match.group(1) if match else None
    elif mime_type == "text/html":
        match = _HTML_TITLE.search(head)
        found = html.unescape(_TAG.sub("", match.group(1) or match.group(2))) if match else None
    title = " ".join((found or "").split())[:300]
    return title or path.stem
