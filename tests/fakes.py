"""A fake source shared by tests: a connector's shape (content, listing, permissions), no
network, with switches for the failures the tests need."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from core import Acl
from ingest import (
    AclChange,
    Change,
    Checkpoint,
    ListingComplete,
    PermissionSnapshot,
    SourceUnavailable,
    SyncedGroup,
)
from tests.helpers import text_doc

ANN, BOB, CAROL = "user:ann@acme.com", "user:bob@acme.com", "user:carol@acme.com"


class Site:
    """Two documents (travel: the site's synced HR group, Ann and Carol; salaries: Carol
    alone). Its permission API fails while ``failing`` is set; a crawl waits while
    ``hold`` is cleared."""

    def __init__(self, source_id: str) -> None:
        self.group = f"group:{source_id}:hr"
        self.texts = {"travel": "Travel policy: employees book economy class flights for "
                                "trips under six hours.",
                      "salaries": "Salary bands KZ4410 for every level."}
        self.acls = {"travel": Acl.of([self.group]), "salaries": Acl.of([CAROL])}
        self.failing = False
        self.hold = threading.Event()
        self.hold.set()

    def changes(self, checkpoint: Mapping[str, Any] | None) -> Iterator[Change]:
        self.hold.wait(timeout=30)
        for external_id, text in self.texts.items():
            yield replace(text_doc(external_id, text), acl=self.acls[external_id])
        yield Checkpoint({"done": True})
        yield ListingComplete()

    def permissions(self) -> PermissionSnapshot:
        if self.failing:
            raise SourceUnavailable("Microsoft Graph answered HTTP 503; retry later")
        return PermissionSnapshot(
            groups=[SyncedGroup(self.group, frozenset({ANN, CAROL}), "HR")],
            acls=[AclChange(e, a) for e, a in self.acls.items()])
