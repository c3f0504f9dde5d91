"""A fake Confluence Cloud site behind ``httpx.MockTransport``.

Payload shapes follow Atlassian's documented examples:
- v2 pages/blogposts (``MultiEntityResult<Page>``: ``results`` + ``_links.next``/``base``,
  ``version.createdAt``, ``body.storage.value``, ``_links.webui``):
  https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-page
- v2 space permissions (``principal.type/id``, ``operation.key/targetType``):
  https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-space-permissions
- v1 read restrictions (``restrictions.user.results`` / ``restrictions.group.results``):
  https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content-restrictions
- v1 group members (``results`` of users with ``accountId``/``email``, ``start``/``limit``):
  https://developer.atlassian.com/cloud/confluence/rest/api-group-group/
- 429 with ``Retry-After``: https://developer.atlassian.com/cloud/confluence/rate-limiting/
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx

BASE = "https://acme.atlassian.net"
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@dataclass
class Page:
    id: str
    space_id: str
    title: str
    body: str
    kind: str = "page"
    parent_id: str | None = None
    version: int = 1
    modified: datetime = T0
    read_users: list[str] = field(default_factory=list)
    """accountIds of the page's read restriction."""
    read_groups: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)


class FakeConfluence:
    def __init__(self) -> None:
        self.spaces: dict[str, str] = {}  # key -> id
        self.pages: dict[str, Page] = {}
        self.space_readers: dict[str, list[tuple[str, str]]] = {}  # id -> (type, id)
        self.groups: dict[str, tuple[str, list[str]]] = {}  # id -> (name, accountIds)
        self.users: dict[str, str | None] = {}  # accountId -> email (None: hidden)
        self.files: dict[str, bytes] = {}
        self.throttle: dict[str, int] = {}  # path prefix -> 429s still to answer
        self.throttle_status = 429  # or 503 (the same Retry-After rules)
        self.crash_on: str | None = None  # a URL substring that kills the caller once
        self.unauthorized = False
        self.hits: Counter[str] = Counter()
        self.log: list[str] = []

    # --- building the site ---------------------------------------------------------------

    def add_space(self, key: str, space_id: str, *, readers: list[tuple[str, str]]) -> None:
        self.spaces[key] = space_id
        self.space_readers[space_id] = readers

    def add_group(self, group_id: str, name: str, members: list[str]) -> None:
        self.groups[group_id] = (name, members)

    def add_user(self, account_id: str, email: str | None) -> None:
        self.users[account_id] = email

    def add_page(self, page: Page) -> Page:
        self.pages[page.id] = page
        return page

    def edit(self, page_id: str, body: str, *, at: datetime) -> None:
        page = self.pages[page_id]
        page.body, page.version, page.modified = body, page.version + 1, at

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # --- the API -------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        path, query = url.path, {k: v[0] for k, v in parse_qs(url.query.decode()).items()}
        self.log.append(str(url))
        if self.crash_on and self.crash_on in str(url):
            self.crash_on = None
            raise RuntimeError("the worker process died")
        if self.unauthorized:
            return httpx.Response(401, json={"message": "Unauthorized"})
        for prefix, left in self.throttle.items():
            if path.startswith(prefix) and left > 0:
                self.throttle[prefix] = left - 1
                return httpx.Response(self.throttle_status, headers={"Retry-After": "2"},
                                      json={"message": "Rate limit exceeded"})
        self.hits[path] += 1
        parts = path.strip("/").split("/")
        if path == "/wiki/api/v2/spaces":
            keys = query.get("keys", "").split(",")
            return _json(self._list([{"id": self.spaces[k], "key": k, "name": k,
                                      "type": "global", "status": "current"}
                                     for k in keys if k in self.spaces], path, query))
        if parts[:4] == ["wiki", "api", "v2", "spaces"] and len(parts) == 6:
            space_id, what = parts[4], parts[5]
            if what == "permissions":
                return _json(self._list([
                    {"id": f"{space_id}-{i}", "principal": {"type": t, "id": pid},
                     "operation": {"key": "read", "targetType": "space"}}
                    for i, (t, pid) in enumerate(self.space_readers[space_id])], path, query))
            kind = what.rstrip("s")
            with_body = query.get("body-format") == "storage"
            items = [self._page_json(p, body=with_body)
                     for p in sorted(self.pages.values(), key=lambda p: int(p.id))
                     if p.space_id == space_id and p.kind == kind]
            return _json(self._list(items, path, query))
        if parts[:3] == ["wiki", "api", "v2"] and parts[3] in {"pages", "blogposts"}:
            page = self.pages.get(parts[4])
            if page is None:
                return httpx.Response(404, json={"errors": [{"status": 404}]})
            if len(parts) == 5:
                return _json(self._page_json(page, body=True))
            if parts[5] == "ancestors":
                chain: list[dict[str, str]] = []
                parent = page.parent_id
                while parent:
                    chain.insert(0, {"id": parent, "type": "page"})
                    parent = self.pages[parent].parent_id
                return _json(self._list(chain, path, query))
            if parts[5] == "attachments":
                return _json(self._list(page.attachments, path, query))
        if path.startswith("/wiki/rest/api/content/") and path.endswith("/byOperation/read"):
            page = self.pages.get(parts[4])
            if page is None:
                return httpx.Response(404, json={"message": "not found"})
            users = [self._user_json(a) for a in page.read_users]
            groups = [{"type": "group", "name": self.groups[g][0], "id": g}
                      for g in page.read_groups]
            return _json({"operation": "read", "restrictions": {
                "user": {"results": users, "start": 0, "limit": 200, "size": len(users)},
                "group": {"results": groups, "start": 0, "limit": 200, "size": len(groups)}},
                "_links": {"base": f"{BASE}/wiki"}})
        if path.startswith("/wiki/rest/api/group/") and path.endswith("/membersByGroupId"):
            name, members = self.groups[parts[4]]
            start, limit = int(query.get("start", 0)), int(query.get("limit", 200))
            chunk = [self._user_json(a) for a in members[start:start + limit]]
            links: dict[str, str] = {"base": f"{BASE}/wiki"}
            if start + limit < len(members):
                links["next"] = (f"/rest/api/group/{parts[4]}/membersByGroupId?"
                                 f"start={start + limit}&limit={limit}")
            return _json({"results": chunk, "start": start, "limit": limit,
                          "size": len(chunk), "_links": links})
        if path == "/wiki/rest/api/user":
            account = query.get("accountId", "")
            if account not in self.users:
                return httpx.Response(404, json={"message": "no such user"})
            return _json(self._user_json(account))
        if path.startswith("/wiki/download/"):
            return httpx.Response(200, content=self.files[path.removeprefix("/wiki")])
        return httpx.Response(404, json={"message": f"fake has no route {path}"})

    def _list(self, items: list[Any], path: str, query: dict[str, str]) -> dict[str, Any]:
        limit = int(query.get("limit", 25))
        start = int(base64.urlsafe_b64decode(query["cursor"]).decode()) if "cursor" in query \
            else 0
        links: dict[str, str] = {"base": f"{BASE}/wiki"}
        if start + limit < len(items):
            cursor = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
            extra = "&body-format=storage" if query.get("body-format") else ""
            links["next"] = f"{path}?cursor={cursor}&limit={limit}{extra}"
        return {"results": items[start:start + limit], "_links": links}

    def _page_json(self, page: Page, *, body: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": page.id, "status": "current", "title": page.title, "spaceId": page.space_id,
            "parentId": page.parent_id, "parentType": "page" if page.parent_id else None,
            "position": 0, "authorId": "acc-ann", "ownerId": "acc-ann", "lastOwnerId": None,
            "createdAt": T0.isoformat().replace("+00:00", "Z"),
            "version": {"createdAt": page.modified.isoformat().replace("+00:00", "Z"),
                        "message": "", "number": page.version, "minorEdit": False,
                        "authorId": "acc-ann"},
            "_links": {"webui": f"/spaces/S/pages/{page.id}", "editui": "", "tinyui": ""},
        }
        if body:
            data["body"] = {"storage": {"value": page.body, "representation": "storage"}}
        return data

    def _user_json(self, account_id: str) -> dict[str, Any]:
        email = self.users.get(account_id)
        user: dict[str, Any] = {"type": "known", "accountId": account_id,
                                "accountType": "atlassian", "publicName": account_id,
                                "displayName": account_id}
        if email:
            user["email"] = email
        return user


def _json(data: Any) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(data).encode(),
                          headers={"Content-Type": "application/json"})
