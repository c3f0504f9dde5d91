"""A fake Microsoft Graph behind ``httpx.MockTransport``, shaped like Microsoft's examples:
driveItem delta pages (``value``, ``@odata.nextLink`` / ``@odata.deltaLink``, the
``deleted`` facet, 410 ``resyncRequired``), permissions (``roles``, ``grantedToV2``,
``grantedToIdentitiesV2``, ``link.scope``), group ``transitiveMembers``, and throttling
(429 or 503 with ``Retry-After``).
https://learn.microsoft.com/en-us/graph/api/driveitem-delta?view=graph-rest-1.0
https://learn.microsoft.com/en-us/graph/api/driveitem-list-permissions?view=graph-rest-1.0
https://learn.microsoft.com/en-us/graph/api/group-list-transitivemembers?view=graph-rest-1.0
https://learn.microsoft.com/en-us/graph/throttling
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

GRAPH = "https://graph.microsoft.com/v1.0"


@dataclass
class File:
    id: str
    name: str
    text: str
    permissions: list[dict[str, Any]] = field(default_factory=list)
    changed_at: int = 0
    """The change counter value when this file last changed."""
    mime_type: str = "text/plain"


class FakeGraph:
    def __init__(self, drive: str = "b!drive1", *, page_size: int = 2) -> None:
        self.drive = drive
        self.page_size = page_size
        self.files: dict[str, File] = {}
        self.deleted: dict[str, int] = {}
        self.groups: dict[str, list[dict[str, str | None]]] = {}
        self.clock = 1
        self.expired_tokens: set[int] = set()
        self.hits: Counter[str] = Counter()
        self.crash_on: str | None = None  # a URL substring that kills the caller once
        self.log: list[str] = []
        self.throttle: dict[str, int] = {}  # path prefix -> throttled answers still to give
        self.throttle_status = 429  # or 503 (Graph's "Service Unavailable")
        self.retry_after = "3"

    def put(self, file: File) -> None:
        self.clock += 1
        file.changed_at = self.clock
        self.files[file.id] = file

    def delete(self, file_id: str) -> None:
        self.clock += 1
        del self.files[file_id]
        self.deleted[file_id] = self.clock

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1.0")
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        self.hits[path] += 1
        self.log.append(str(request.url))
        if self.crash_on and self.crash_on in str(request.url):
            self.crash_on = None
            raise RuntimeError("the worker process died")
        if request.url.host == "login.microsoftonline.com":
            return _json({"token_type": "Bearer", "expires_in": 3599,
                          "access_token": "graph-token"})
        if request.headers.get("Authorization") != "Bearer graph-token":
            return httpx.Response(401, json={"error": {"code": "InvalidAuthenticationToken"}})
        for prefix, left in self.throttle.items():
            if path.startswith(prefix) and left > 0:
                self.throttle[prefix] = left - 1
                code = ("TooManyRequests" if self.throttle_status == 429
                        else "serviceNotAvailable")
                return httpx.Response(self.throttle_status,
                                      headers={"Retry-After": self.retry_after},
                                      json={"error": {"code": code, "message": "Throttled"}})
        if path == f"/drives/{self.drive}/root/delta":
            return self._delta(query)
        parts = path.strip("/").split("/")
        if parts[:3] == ["drives", self.drive, "items"]:
            file = self.files.get(parts[3])
            if file is None:
                return httpx.Response(404, json={"error": {"code": "itemNotFound"}})
            if parts[4] == "content":
                return httpx.Response(200, content=file.text.encode())
            if parts[4] == "permissions":
                return _json({"value": file.permissions})
        if parts[0] == "groups" and parts[2] == "transitiveMembers":
            return _json({"@odata.context": "...", "value": self.groups[parts[1]]})
        return httpx.Response(404, json={"error": {"code": "itemNotFound"}})

    def _delta(self, query: dict[str, str]) -> httpx.Response:
        token = int(query.get("token", 0))
        if token in self.expired_tokens:
            return httpx.Response(410, json={"error": {
                "code": "resyncRequired", "message": "Resync required."}})
        start = int(query.get("skip", 0))
        if token:
            items = [self._item(f) for f in self.files.values() if f.changed_at > token]
            items += [{"id": i, "deleted": {"state": "deleted"}, "name": None,
                       "parentReference": {"driveId": self.drive}}
                      for i, at in self.deleted.items() if at > token]
        else:
            root = {"id": "root", "name": "root", "root": {}, "folder": {"childCount": 0}}
            items = [root, {"id": "folderA", "name": "Policies", "folder": {"childCount": 1}},
                     *(self._item(f) for f in self.files.values())]
        chunk = items[start:start + self.page_size]
        body: dict[str, Any] = {"@odata.context": f"{GRAPH}/$metadata#Collection(driveItem)",
                                "value": chunk}
        if start + self.page_size < len(items):
            body["@odata.nextLink"] = (f"{GRAPH}/drives/{self.drive}/root/delta?"
                                       f"token={token}&skip={start + self.page_size}")
        else:
            body["@odata.deltaLink"] = f"{GRAPH}/drives/{self.drive}/root/delta?token={self.clock}"
        return _json(body)

    def _item(self, file: File) -> dict[str, Any]:
        return {"id": file.id, "name": file.name, "size": len(file.text),
                "eTag": f"\"{file.id},{file.changed_at}\"", "cTag": f"c:{file.changed_at}",
                "lastModifiedDateTime": "2026-11-01T09:00:00Z",
                "webUrl": f"https://acme.sharepoint.com/sites/hr/Shared%20Documents/{file.name}",
                "file": {"mimeType": file.mime_type, "hashes": {}},
                "parentReference": {"driveId": self.drive, "id": "folderA",
                                    "path": f"/drives/{self.drive}/root:/Policies"}}


def user_grant(email: str, role: str = "read") -> dict[str, Any]:
    return {"id": f"p-{email}", "roles": [role],
            "grantedToV2": {"user": {"id": f"u-{email}", "displayName": email,
                                     "email": email}}}


def group_grant(group_id: str) -> dict[str, Any]:
    return {"id": f"p-{group_id}", "roles": ["read"],
            "grantedToV2": {"group": {"id": group_id, "displayName": group_id}}}


def org_link(recipients: list[str]) -> dict[str, Any]:
    return {"id": "p-link", "roles": ["read"], "hasPassword": False,
            "link": {"scope": "organization", "type": "view",
                     "webUrl": "https://acme.sharepoint.com/:t:/s/hr/x"},
            "grantedToIdentitiesV2": [{"user": {"id": f"u-{r}", "displayName": r,
                                                "email": r}} for r in recipients]}


def _json(data: Any) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(data).encode(),
                          headers={"Content-Type": "application/json"})
