"""Folder ACL files (``.acl.json``) and how they are inherited down a folder tree.

A file holds ``{"allow": [...], "deny": [...]}``; both keys are optional, no other key is
accepted (a misspelt "alow" must not silently mean "inherit"). From the root down:

- ``allow`` in a folder's file *replaces* the inherited allow list; absent, it is inherited;
- ``deny`` *accumulates*: a folder's deny list adds to every one above it, so a sub-folder
  can narrow who reads but never lift a deny made higher up;
- with no allow list anywhere on the way down, the ACL is None: readable by nobody;
- a file that cannot be read or understood poisons its folder and everything beneath,
  whatever their own files say (a deny list we cannot read may have been keeping someone
  out), so those files fail with ``acl_invalid`` instead of being indexed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import AclInvalid
from core.types import Acl

from ._acl import principals

ACL_FILE = ".acl.json"
MAX_ACL_FILE_BYTES = 1 << 20
_KEYS = frozenset({"allow", "deny"})


@dataclass(frozen=True)
class FolderRules:
    """The effective rules of one folder."""

    allow: frozenset[str] | None = None
    deny: frozenset[str] = frozenset()
    problem: str | None = None
    """Why the rules are unknown (an ACL file here or above is broken); None when fine."""

    def acl(self) -> Acl | None:
        if self.problem is not None:
            raise AclInvalid(self.problem)
        return None if self.allow is None else Acl(allow=self.allow, deny=self.deny)

    def below(self, folder: Path, *, label: str) -> FolderRules:
        """The rules of ``folder``, a child of the folder these rules belong to."""
        if self.problem is not None:
            return self
        try:
            found = read_acl_file(folder / ACL_FILE, label=label)
        except AclInvalid as exc:
            return FolderRules(problem=exc.message)
        if found is None:
            return self
        allow, deny = found
        return FolderRules(allow=self.allow if allow is None else allow, deny=self.deny | deny)


def read_acl_file(path: Path, *, label: str) -> tuple[frozenset[str] | None, frozenset[str]] | None:
    """``(allow or None if absent, deny)`` from an ACL file; None if there is no file."""
    if not os.path.lexists(path):
        return None
    if path.is_symlink() or not path.is_file():
        raise AclInvalid(f"{label}: must be a regular file, not a link")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_ACL_FILE_BYTES + 1)
    except OSError as exc:
        raise AclInvalid(f"{label}: could not be read ({type(exc).__name__})") from exc
    if len(raw) > MAX_ACL_FILE_BYTES:
        raise AclInvalid(f"{label}: larger than {MAX_ACL_FILE_BYTES} bytes")
    return _parse(raw, label=label)


def _parse(raw: bytes, *, label: str) -> tuple[frozenset[str] | None, frozenset[str]]:
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise AclInvalid(f"{label}: not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise AclInvalid(f"{label}: not valid JSON ({where})") from None
    if not isinstance(data, dict):
        raise AclInvalid(f"{label}: must be a JSON object with 'allow' and/or 'deny'")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise AclInvalid(f"{label}: unknown keys {unknown}; only 'allow' and 'deny' are allowed")
    try:
        allow = principals(data["allow"], field="allow") if "allow" in data else None
        deny = principals(data.get("deny", []), field="deny")
    except AclInvalid as exc:
        raise AclInvalid(f"{label}: {exc.message}") from None
    return allow, deny
