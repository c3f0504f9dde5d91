"""Confluence Cloud as a source: the pages, blog posts and attachments of chosen spaces,
each with who may read it.

Config: ``base_url`` (``https://acme.atlassian.net``), ``spaces`` (keys), and either
``email`` + ``api_token`` (basic auth) or ``bearer_token`` (a personal access token);
optional ``overlap_s`` (300), ``page_limit`` (100), ``include_blogposts`` (true),
``include_attachments`` (true), ``max_retries`` (5), ``max_retry_wait_s`` (60).
``source_id`` is filled in by the worker: synced groups are ``group:<source_id>:<id>``.

External ids: ``page:<id>``, ``blogpost:<id>``, ``page:<id>/attachment:<id>``.

How it reads the site (REST API v2, and v1 where v2 has no equivalent):

- spaces by key: ``GET /wiki/api/v2/spaces?keys=``; pages and blog posts of a space:
  ``GET /wiki/api/v2/spaces/{id}/pages`` / ``.../blogposts`` (cursor paging through
  ``_links.next`` until there is none; ``body-format=storage`` on a full sync);
  one page's body: ``GET /wiki/api/v2/pages/{id}?body-format=storage``; its ancestors:
  ``GET /wiki/api/v2/pages/{id}/ancestors``; attachments:
  ``GET /wiki/api/v2/pages/{id}/attachments``.
- who may read: space permissions ``GET /wiki/api/v2/spaces/{id}/permissions``
  (``operation.key == "read"``, ``targetType == "space"``); page read restrictions (v1,
  v2 has none): ``GET /wiki/rest/api/content/{id}/restriction/byOperation/read``; group
  members (v1): ``GET /wiki/rest/api/group/{groupId}/membersByGroupId``; a user's email
  (v1): ``GET /wiki/rest/api/user?accountId=``.
- Confluence's rule: a reader needs the space's read permission AND must satisfy the read
  restriction of the page and of every restricted ancestor. The ACL is that intersection,
  over principals: a group is kept when every level admits it; otherwise its members who
  are admitted by every level are listed one by one. A user whose email the site hides is
  left out (fail closed).
- Incremental: each run lists every item's id and version time (cheap, no bodies) and
  fetches bodies only for items modified since the last run's high-water mark minus
  ``overlap_s`` (clock skew, in-flight edits); the listing is complete, so deleted pages
  are reconciled away in the same cycle. A checkpoint after each listing page lets a
  crashed run resume where it was.
- ``listing()`` (the scheduled reconciliation): the ids of every page and blog post of the
  spaces, no bodies; attachments count as listed with their page.
- Rate limits: 429/503 with ``Retry-After`` are honoured (``_http.py``); 401 stops the run
  with ``source_credentials_invalid`` (the source's status becomes needs_credentials).

Atlassian's documentation followed for the payloads (the test fakes copy their shapes):
https://developer.atlassian.com/cloud/confluence/rest/v2/intro (cursor paging, _links.next),
https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-page (Page, MultiEntityResult),
https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-space-permissions,
https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-content-restrictions,
https://developer.atlassian.com/cloud/confluence/rest/api-group-group/ (membersByGroupId),
https://developer.atlassian.com/cloud/confluence/rate-limiting/ (429, Retry-After).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from core.errors import DocumentTooLarge, InputError, UnsupportedMimeType
from core.types import Acl, RawDocument, user_principal

from ..parse.registry import supported_mime_types
from ._http import HttpStatusError, JsonClient
from .base import ConnectorFailure
from .changes import (
    AclChange,
    Change,
    Checkpoint,
    ListingComplete,
    PermissionSnapshot,
    Seen,
    SyncedGroup,
)

KINDS = ("page", "blogpost")


@dataclass
class _Access:
    """What one run learns about the site's permissions (cached per run)."""

    space_readers: dict[str, frozenset[str]] = field(default_factory=dict)
    restrictions: dict[str, frozenset[str]] = field(default_factory=dict)
    ancestors: dict[str, list[str]] = field(default_factory=dict)
    members: dict[str, frozenset[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str | None] = field(default_factory=dict)


class ConfluenceConnector:
    def __init__(self, *, base_url: str, spaces: list[str], source_id: str,
                 auth_headers: Mapping[str, str], max_bytes: int,
                 transport: httpx.BaseTransport | None = None, overlap_s: float = 300.0,
                 page_limit: int = 100, include_blogposts: bool = True,
                 include_attachments: bool = True, max_retries: int = 5,
                 max_retry_wait_s: float = 60.0,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.spaces = list(spaces)
        self.source_id = source_id
        self.max_bytes = max_bytes
        self.overlap = timedelta(seconds=overlap_s)
        self.page_limit = page_limit
        self.kinds = KINDS if include_blogposts else ("page",)
        self.include_attachments = include_attachments
        extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        self.http = JsonClient(self.base_url, headers={**auth_headers,
                                                       "Accept": "application/json"},
                               transport=transport, max_retries=max_retries,
                               max_wait_s=max_retry_wait_s, source_label="Confluence",
                               **extra)
        self._access = _Access()
        self._space_ids: dict[str, str] | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, max_bytes: int,
                    transport: httpx.BaseTransport | None = None,
                    sleep: Callable[[float], None] | None = None) -> ConfluenceConnector:
        base_url, spaces = config.get("base_url"), config.get("spaces")
        if not isinstance(base_url, str) or not base_url.startswith(("https://", "http://")):
            raise InputError("a confluence source needs config.base_url "
                             "(https://<site>.atlassian.net)")
        if not isinstance(spaces, list) or not spaces or not all(
                isinstance(s, str) for s in spaces):
            raise InputError("a confluence source needs config.spaces, a list of space keys")
        return cls(base_url=base_url, spaces=spaces, source_id=str(config.get("source_id", "")),
                   auth_headers=_auth_headers(config), max_bytes=max_bytes,
                   transport=transport, overlap_s=float(config.get("overlap_s", 300)),
                   page_limit=int(config.get("page_limit", 100)),
                   include_blogposts=bool(config.get("include_blogposts", True)),
                   include_attachments=bool(config.get("include_attachments", True)),
                   max_retries=int(config.get("max_retries", 5)),
                   max_retry_wait_s=float(config.get("max_retry_wait_s", 60)), sleep=sleep)

    # --- content -----------------------------------------------------------------------

    def documents(self) -> Iterator[RawDocument | ConnectorFailure]:
        for item in self.changes(None):
            if isinstance(item, (RawDocument, ConnectorFailure)):
                yield item

    def changes(self, checkpoint: Mapping[str, Any] | None) -> Iterator[Change]:
        self._access = _Access()  # permissions may have changed since the last run
        resume = (checkpoint or {}).get("resume")
        since_text = (checkpoint or {}).get("since")
        since = _parse_time(since_text) if isinstance(since_text, str) else None
        high_water = since
        position = resume or {"space": 0, "kind": 0, "cursor": None}
        if resume:
            high_water = _parse_time(resume["high_water"]) if resume.get("high_water") else since
        cutoff = since - self.overlap if since else None
        keys = self.spaces
        for space_index in range(int(position["space"]), len(keys)):
            space_id = self._space_id(keys[space_index])
            first_kind = int(position["kind"]) if space_index == int(position["space"]) else 0
            for kind_index in range(first_kind, len(self.kinds)):
                kind = self.kinds[kind_index]
                cursor = position["cursor"] if (space_index == int(position["space"])
                                                and kind_index == first_kind) else None
                url = cursor or f"/wiki/api/v2/spaces/{space_id}/{kind}s"
                params = None if cursor else {
                    "limit": self.page_limit,
                    **({} if cutoff else {"body-format": "storage"})}
                for results, next_url in self.http.paged(url, params):
                    for item in results:
                        modified = _version_time(item)
                        if modified and (high_water is None or modified > high_water):
                            high_water = modified
                        if cutoff and modified and modified < cutoff:
                            yield Seen(f"{kind}:{item['id']}")
                            continue
                        yield from self._item(kind, item, space_id)
                    state: dict[str, Any] = {"since": since_text, "resume": {
                        "space": space_index, "kind": kind_index, "cursor": next_url,
                        "high_water": _format_time(high_water)}}
                    if next_url is None:  # this listing is done: resume at the next one
                        nxt = (space_index, kind_index + 1)
                        if nxt[1] >= len(self.kinds):
                            nxt = (space_index + 1, 0)
                        state["resume"].update(space=nxt[0], kind=nxt[1], cursor=None)
                    yield Checkpoint(state)
        if not resume:
            yield ListingComplete()
        yield Checkpoint({"since": _format_time(high_water)})

    def listing(self) -> Iterator[str]:
        """The external id of every page and blog post of the spaces (ids only)."""
        for key in self.spaces:
            space_id = self._space_id(key)
            for kind in self.kinds:
                for results, _ in self.http.paged(f"/wiki/api/v2/spaces/{space_id}/{kind}s",
                                                  {"limit": self.page_limit}):
                    for item in results:
                        yield f"{kind}:{item['id']}"

    def _item(self, kind: str, item: Mapping[str, Any], space_id: str) -> Iterator[Change]:
        external_id = f"{kind}:{item['id']}"
        body = ((item.get("body") or {}).get("storage") or {}).get("value")
        try:
            if body is None:
                item = self.http.get_json(f"/wiki/api/v2/{kind}s/{item['id']}",
                                          {"body-format": "storage"})
                body = ((item.get("body") or {}).get("storage") or {}).get("value") or ""
            acl = self._acl(kind, str(item["id"]), space_id)
        except HttpStatusError as exc:
            if exc.status == 404:
                return  # deleted while we listed: the next listing reconciles it
            yield ConnectorFailure(external_id, "source_item_unreadable",
                                   f"Confluence answered HTTP {exc.status}")
            return
        title = str(item.get("title") or external_id)
        page = (f"<html><head><title>{html.escape(title)}</title></head>"
                f"<body><h1>{html.escape(title)}</h1>{body}</body></html>")
        webui = (item.get("_links") or {}).get("webui")
        yield RawDocument(
            external_id=external_id, title=title, content=page.encode(), mime_type="text/html",
            acl=acl, url=f"{self.base_url}/wiki{webui}" if webui else None,
            updated_at=_version_time(item), metadata={"space_id": space_id, "type": kind})
        if kind == "page" and self.include_attachments:
            yield from self._attachments(str(item["id"]), acl, title)

    def _attachments(self, page_id: str, acl: Acl, page_title: str) -> Iterator[Change]:
        supported = supported_mime_types()
        for results, _ in self.http.paged(f"/wiki/api/v2/pages/{page_id}/attachments",
                                          {"limit": self.page_limit}):
            for att in results:
                external_id = f"page:{page_id}/attachment:{att['id']}"
                mime = str(att.get("mediaType") or "application/octet-stream")
                if mime not in supported:
                    yield ConnectorFailure.of(external_id, UnsupportedMimeType(
                        f"attachment of type {mime} has no parser"))
                    continue
                if int(att.get("fileSize") or 0) > self.max_bytes:
                    yield ConnectorFailure.of(external_id, DocumentTooLarge(
                        f"attachment is over {self.max_bytes} bytes "
                        "(CLEARANCE_MAX_UPLOAD_BYTES)"))
                    continue
                try:
                    content = self.http.get(f"/wiki{att['downloadLink']}").content
                except HttpStatusError as exc:
                    yield ConnectorFailure(external_id, "source_item_unreadable",
                                           f"Confluence answered HTTP {exc.status}")
                    continue
                yield RawDocument(external_id=external_id,
                                  title=str(att.get("title") or external_id), content=content,
                                  mime_type=mime, acl=acl, metadata={"page_title": page_title},
                                  updated_at=_version_time(att))

    # --- permissions -------------------------------------------------------------------

    def permissions(self) -> PermissionSnapshot:
        """Every item's ACL (attachments follow their page) and every synced group."""
        self._access = _Access()
        acls: list[AclChange] = []
        for key in self.spaces:
            space_id = self._space_id(key)
            for kind in self.kinds:
                for results, _ in self.http.paged(f"/wiki/api/v2/spaces/{space_id}/{kind}s",
                                                  {"limit": self.page_limit}):
                    for item in results:
                        acl = self._acl(kind, str(item["id"]), space_id)
                        acls.append(AclChange(f"{kind}:{item['id']}", acl,
                                              include_children=True))
        groups = [SyncedGroup(self._group(gid), members, self._access.names.get(gid))
                  for gid, members in sorted(self._access.members.items())]
        return PermissionSnapshot(groups=groups, acls=acls)

    def _acl(self, kind: str, content_id: str, space_id: str) -> Acl:
        levels = [self._space_readers(space_id)]
        chain = self._ancestors(content_id) if kind == "page" else []
        for ancestor in [*chain, content_id]:
            restricted = self._restriction(ancestor)
            if restricted:
                levels.append(restricted)
        return Acl(allow=frozenset(self._intersect(levels)))

    def _intersect(self, levels: list[frozenset[str]]) -> set[str]:
        def admits(level: frozenset[str], principal: str) -> bool:
            if principal in level:
                return True
            return principal.startswith("user:") and any(
                principal in self._members_of(g) for g in level if g.startswith("group:"))

        allowed: set[str] = set()
        for principal in set().union(*levels):
            if all(admits(level, principal) for level in levels):
                allowed.add(principal)
            elif principal.startswith("group:"):
                allowed.update(u for u in self._members_of(principal)
                               if all(admits(level, u) for level in levels))
        return allowed

    def _space_readers(self, space_id: str) -> frozenset[str]:
        if space_id not in self._access.space_readers:
            found: set[str] = set()
            for results, _ in self.http.paged(f"/wiki/api/v2/spaces/{space_id}/permissions",
                                              {"limit": 250}):
                for grant in results:
                    operation = grant.get("operation") or {}
                    if operation.get("key") != "read" or operation.get("targetType") != "space":
                        continue
                    principal = grant.get("principal") or {}
                    found.update(self._principal(principal.get("type"), principal))
            self._access.space_readers[space_id] = frozenset(found)
        return self._access.space_readers[space_id]

    def _restriction(self, content_id: str) -> frozenset[str]:
        if content_id not in self._access.restrictions:
            data = self.http.get_json(
                f"/wiki/rest/api/content/{content_id}/restriction/byOperation/read",
                {"expand": "restrictions.user,restrictions.group", "limit": 200})
            restrictions = data.get("restrictions") or {}
            found: set[str] = set()
            for user in (restrictions.get("user") or {}).get("results", []):
                found.update(self._principal("user", user))
            for group in (restrictions.get("group") or {}).get("results", []):
                found.update(self._principal("group", group))
            if not found and ((restrictions.get("user") or {}).get("results")
                              or (restrictions.get("group") or {}).get("results")):
                found.add(f"user:nobody@{self.source_id or 'confluence'}.invalid")  # closed
            self._access.restrictions[content_id] = frozenset(found)
        return self._access.restrictions[content_id]

    def _ancestors(self, page_id: str) -> list[str]:
        if page_id not in self._access.ancestors:
            chain: list[str] = []
            for results, _ in self.http.paged(f"/wiki/api/v2/pages/{page_id}/ancestors",
                                              {"limit": 250}):
                chain.extend(str(a["id"]) for a in results if a.get("type", "page") == "page")
            self._access.ancestors[page_id] = chain
        return self._access.ancestors[page_id]

    def _principal(self, kind: object, data: Mapping[str, Any]) -> set[str]:
        if kind == "group":
            group_id = str(data.get("id") or data.get("name") or "")
            if not group_id:
                return set()
            if data.get("name"):
                self._access.names[group_id] = str(data["name"])
            self._members_of(self._group(group_id))
            return {self._group(group_id)}
        if kind == "user":
            account = str(data.get("accountId") or data.get("id") or "")
            email = data.get("email") or self._email(account)
            return {user_principal(email)} if email else set()
        return set()  # anonymous access, roles: never widened into "everyone"

    def _members_of(self, group: str) -> frozenset[str]:
        group_id = group.rsplit(":", 1)[-1]
        if group_id not in self._access.members:
            self._access.members[group_id] = frozenset()  # a cycle stops here
            members: set[str] = set()
            for results, _ in self.http.paged(
                    f"/wiki/rest/api/group/{group_id}/membersByGroupId", {"limit": 200}):
                for user in results:
                    members.update(self._principal("user", user))
            self._access.members[group_id] = frozenset(members)
        return self._access.members[group_id]

    def _email(self, account_id: str) -> str | None:
        if not account_id:
            return None
        if account_id not in self._access.emails:
            try:
                data = self.http.get_json("/wiki/rest/api/user", {"accountId": account_id})
            except HttpStatusError:
                data = {}
            email = data.get("email")
            self._access.emails[account_id] = str(email) if email else None
        return self._access.emails[account_id]

    def _group(self, group_id: str) -> str:
        return f"group:{self.source_id}:{group_id}"

    def _space_id(self, key: str) -> str:
        if self._space_ids is None:
            self._space_ids = {}
            for results, _ in self.http.paged("/wiki/api/v2/spaces",
                                              {"keys": ",".join(self.spaces), "limit": 250}):
                for space in results:
                    self._space_ids[str(space["key"])] = str(space["id"])
        if key not in self._space_ids:
            raise InputError(f"Confluence has no space {key!r} visible to these credentials "
                             "(config.spaces)")
        return self._space_ids[key]


def _auth_headers(config: Mapping[str, Any]) -> dict[str, str]:
    bearer = config.get("bearer_token")
    if isinstance(bearer, str) and bearer:
        return {"Authorization": f"Bearer {bearer}"}
    email, token = config.get("email"), config.get("api_token")
    if isinstance(email, str) and isinstance(token, str) and email and token:
        basic = base64.b64encode(f"{email}:{token}".encode()).decode()
        return {"Authorization": f"Basic {basic}"}
    raise InputError("a confluence source needs config.email and config.api_token, "
                     "or config.bearer_token")


def _version_time(item: Mapping[str, Any]) -> datetime | None:
    version = item.get("version") or {}
    value = version.get("createdAt") or item.get("createdAt")
    return _parse_time(value) if isinstance(value, str) else None


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _format_time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None
