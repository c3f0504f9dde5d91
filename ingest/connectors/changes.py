"""What a syncable connector tells the worker besides documents.

``Connector.documents()`` lists every item of a source. A connector that can do better
also offers ``changes(checkpoint)``: an iterator of

- ``RawDocument`` / ``ConnectorFailure``: an item that is new or may have changed;
- ``Seen(external_id)``: an item that still exists and did not change (not refetched);
  the items filed under it (``<external_id>/...``, a page's attachments) count as seen;
- ``Deleted(external_id)``: an item the source says is gone;
- ``Checkpoint(state)``: everything yielded before it may be committed, and a run that
  crashes later resumes with ``changes(state)``; the last one is the next run's start;
- ``ListingComplete()``: every item that exists was yielded (as a document, a failure or
  ``Seen``) since this run started, so whatever was not is gone (deletion by
  reconciliation). A resumed run never says it.

and ``permissions()``: ``SyncedGroup`` snapshots (members of ``group:<source>:<id>``) and
``AclChange``s (the current ACL of each item), cheap enough to run every few minutes.

An incremental connector may also offer ``listing()``: the external id of every item that
exists now (ids only: no bodies, no ACLs), for the full-listing reconciliation that runs
on its own schedule and deletes what incremental syncs missed. It raises rather than end
early: a listing that stops half way must never read as "the rest is gone". Items filed
under a listed id (``<external_id>/...``) count as listed.

Source-level problems raise ``SourceCredentialsInvalid`` (401/403: the source needs new
credentials) or ``SourceUnavailable`` (429/5xx after retries: try again later).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from core.errors import ClearanceError
from core.types import Acl, RawDocument

from .base import Connector, ConnectorFailure


@dataclass(frozen=True)
class Seen:
    external_id: str


@dataclass(frozen=True)
class Deleted:
    external_id: str


@dataclass(frozen=True)
class Checkpoint:
    state: Mapping[str, Any]


@dataclass(frozen=True)
class ListingComplete:
    pass


@dataclass(frozen=True)
class SyncedGroup:
    group_id: str
    """``group:<source>:<external id>``."""
    members: frozenset[str]
    display_name: str | None = None


@dataclass(frozen=True)
class AclChange:
    external_id: str
    acl: Acl
    include_children: bool = False
    """Also the items filed under it (``<external_id>/...``: a page's attachments)."""


@dataclass(frozen=True)
class PermissionSnapshot:
    """One permission pass: every synced group of the source and every item's ACL."""

    groups: list[SyncedGroup] = field(default_factory=list)
    acls: list[AclChange] = field(default_factory=list)
    complete: bool = True
    """False when some items could not be read: groups missing from the list are kept."""


Change = RawDocument | ConnectorFailure | Seen | Deleted | Checkpoint | ListingComplete


@runtime_checkable
class IncrementalConnector(Protocol):
    def changes(self, checkpoint: Mapping[str, Any] | None) -> Iterator[Change]: ...


SourceConnector = Connector | IncrementalConnector
"""What a source's connector is: one that lists everything (``documents()``) or one that
reports changes from a checkpoint; ``permissions()`` and ``listing()`` are optional extras
that the syncs look for (``PermissionConnector``, ``ListingConnector``)."""


@runtime_checkable
class ListingConnector(Protocol):
    def listing(self) -> Iterator[str]: ...


@runtime_checkable
class PermissionConnector(Protocol):
    def permissions(self) -> PermissionSnapshot: ...


class SourceCredentialsInvalid(ClearanceError):
    code: ClassVar[str] = "source_credentials_invalid"
    http_status: ClassVar[int] = 502


class SourceUnavailable(ClearanceError):
    code: ClassVar[str] = "source_unavailable"
    http_status: ClassVar[int] = 503
