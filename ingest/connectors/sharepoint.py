"""SharePoint Online / OneDrive document libraries through Microsoft Graph.

Config: ``drives`` (drive ids of the document libraries), and either ``tenant_id`` +
``client_id`` + ``client_secret`` (app-only client credentials) or ``bearer_token``;
optional ``graph_url`` (``https://graph.microsoft.com/v1.0``), ``login_url``,
``org_links_grant_everyone`` (false), ``max_retries``, ``max_retry_wait_s``.
External ids: ``<drive id>:<item id>``; synced groups: ``group:<source_id>:<group id>``.

- Content: ``GET /drives/{id}/root/delta``, following ``@odata.nextLink`` page by page
  (a checkpoint after each) until ``@odata.deltaLink``, which is the next run's start.
  Items with the ``deleted`` facet are deleted; folders are skipped; file bytes come from
  ``GET /drives/{id}/items/{item}/content``.
- 410 Gone (``resyncRequired``: the token expired): every drive is enumerated again
  from scratch and the listing is complete, so what is gone is reconciled away.
- ``listing()`` (the scheduled reconciliation): a fresh delta enumeration of each drive,
  ids only (``$select=id,file,deleted``), apart from the content sync's delta links.
- Who may read: ``GET /drives/{id}/items/{item}/permissions``; any role grants read.
  ``grantedToV2`` / ``grantedToIdentitiesV2``: a user by email (``user.email``,
  ``siteUser.email`` or ``GET /users/{id}``), an Entra group as a synced group whose
  members are ``GET /groups/{id}/transitiveMembers/microsoft.graph.user`` (nested groups
  flattened). A sharing link with ``scope == "organization"`` grants ``everyone`` only
  with ``org_links_grant_everyone`` (a link is not a listing: by default only the people
  it was sent to, in ``grantedToIdentitiesV2``, are granted); ``anonymous`` links never
  widen access; SharePoint site groups (``siteGroup``) have no Graph member list and
  grant nothing (fail closed).
- 429/503 with ``Retry-After`` are honoured; 401 means new credentials are needed.

Microsoft's documentation followed (the test fakes copy its payload shapes):
https://learn.microsoft.com/en-us/graph/api/driveitem-delta?view=graph-rest-1.0,
https://learn.microsoft.com/en-us/graph/api/driveitem-list-permissions?view=graph-rest-1.0,
https://learn.microsoft.com/en-us/graph/api/group-list-transitivemembers?view=graph-rest-1.0,
https://learn.microsoft.com/en-us/graph/throttling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict

import httpx

from core.errors import DocumentTooLarge, InputError, UnsupportedMimeType
from core.types import EVERYONE, Acl, RawDocument, user_principal

from ..parse.registry import mime_type_for, supported_mime_types
from ._http import HttpStatusError, JsonClient
from .base import ConnectorFailure
from .changes import (
    AclChange,
    Change,
    Checkpoint,
    Deleted,
    ListingComplete,
    PermissionSnapshot,
    SourceCredentialsInvalid,
    SourceUnavailable,
    SyncedGroup,
)

GRAPH = "https://graph.microsoft.com/v1.0"
LOGIN = "https://login.microsoftonline.com"


class _Retry(TypedDict, total=False):
    """How ``JsonClient`` retries a throttled or failing Graph call."""

    max_retries: int
    max_wait_s: float
    sleep: Callable[[float], None]


class _Resync(Exception):
    """A delta token expired (410): enumerate everything again."""


class SharePointConnector:
    def __init__(self, *, drives: list[str], source_id: str, max_bytes: int,
                 credentials: Mapping[str, str], transport: httpx.BaseTransport | None = None,
                 graph_url: str = GRAPH, login_url: str = LOGIN,
                 org_links_grant_everyone: bool = False, max_retries: int = 5,
                 max_retry_wait_s: float = 60.0,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.drives, self.source_id, self.max_bytes = list(drives), source_id, max_bytes
        self.credentials = dict(credentials)
        self.transport, self.graph_url, self.login_url = transport, graph_url, login_url
        self.org_links_grant_everyone = org_links_grant_everyone
        self._retry = _Retry(max_retries=max_retries, max_wait_s=max_retry_wait_s)
        if sleep is not None:
            self._retry["sleep"] = sleep
        self._http: JsonClient | None = None
        self._members: dict[str, frozenset[str]] = {}
        self._emails: dict[str, str | None] = {}

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, max_bytes: int,
                    transport: httpx.BaseTransport | None = None,
                    sleep: Callable[[float], None] | None = None) -> SharePointConnector:
        drives = config.get("drives")
        if not isinstance(drives, list) or not drives or not all(
                isinstance(d, str) for d in drives):
            raise InputError("a sharepoint source needs config.drives, a list of drive ids")
        credentials = {k: str(config[k]) for k in ("tenant_id", "client_id", "client_secret",
                                                   "bearer_token") if config.get(k)}
        if "bearer_token" not in credentials and not {
                "tenant_id", "client_id", "client_secret"} <= set(credentials):
            raise InputError("a sharepoint source needs config.tenant_id, config.client_id "
                             "and config.client_secret (or config.bearer_token)")
        return cls(drives=drives, source_id=str(config.get("source_id", "")),
                   max_bytes=max_bytes, credentials=credentials, transport=transport,
                   graph_url=str(config.get("graph_url", GRAPH)),
                   login_url=str(config.get("login_url", LOGIN)),
                   org_links_grant_everyone=bool(config.get("org_links_grant_everyone")),
                   max_retries=int(config.get("max_retries", 5)),
                   max_retry_wait_s=float(config.get("max_retry_wait_s", 60)), sleep=sleep)

    # --- content -----------------------------------------------------------------------

    def documents(self) -> Iterator[RawDocument | ConnectorFailure]:
        for item in self.changes(None):
            if isinstance(item, (RawDocument, ConnectorFailure)):
                yield item

    def changes(self, checkpoint: Mapping[str, Any] | None) -> Iterator[Change]:
        state = dict(checkpoint or {})
        links: dict[str, str] = dict(state.get("delta_links") or {})
        resume = state.get("resume")
        try:
            yield from self._changes(links, resume, fresh=not links and not resume)
        except _Resync:
            yield from self._changes({}, None, fresh=True)

    def _changes(self, links: dict[str, str], resume: Mapping[str, Any] | None, *,
                 fresh: bool) -> Iterator[Change]:
        first = int(resume["drive"]) if resume else 0
        for index in range(first, len(self.drives)):
            drive = self.drives[index]
            url = (resume["next"] if resume and index == first
                   else links.get(drive) or f"/drives/{drive}/root/delta")
            while url:
                try:
                    page = self.http.get_json(url)
                except HttpStatusError as exc:
                    if exc.status == 410:
                        raise _Resync() from exc
                    raise
                for item in page.get("value", []):
                    yield from self._item(drive, item)
                nxt, delta = page.get("@odata.nextLink"), page.get("@odata.deltaLink")
                if delta:
                    links[drive] = delta
                yield Checkpoint({"delta_links": dict(links), "fresh": fresh, "resume": (
                    {"drive": index, "next": nxt} if nxt else
                    {"drive": index + 1, "next": None})})
                url = nxt
        if fresh and not resume:
            yield ListingComplete()
        yield Checkpoint({"delta_links": dict(links)})

    def listing(self) -> Iterator[str]:
        """The external id of every file of every drive (ids only, no content)."""
        for drive in self.drives:
            url: str | None = f"/drives/{drive}/root/delta?$select=id,file,deleted"
            while url:
                page = self.http.get_json(url)
                for item in page.get("value", []):
                    if "file" in item and not item.get("deleted"):
                        yield f"{drive}:{item['id']}"
                url = page.get("@odata.nextLink")
                if not url and not page.get("@odata.deltaLink"):
                    raise SourceUnavailable("Microsoft Graph ended a drive listing with "
                                            "neither @odata.nextLink nor @odata.deltaLink")

    def _item(self, drive: str, item: Mapping[str, Any]) -> Iterator[Change]:
        external_id = f"{drive}:{item['id']}"
        if item.get("deleted"):
            yield Deleted(external_id)
            return
        if "file" not in item:
            return  # folders, the root, packages
        name = str(item.get("name") or external_id)
        mime = mime_type_for(name) or str((item.get("file") or {}).get("mimeType") or "")
        if mime not in supported_mime_types():
            yield ConnectorFailure.of(external_id, UnsupportedMimeType(
                f"no parser for {name} ({mime or 'unknown type'})"))
            return
        if int(item.get("size") or 0) > self.max_bytes:
            yield ConnectorFailure.of(external_id, DocumentTooLarge(
                f"file is over {self.max_bytes} bytes (CLEARANCE_MAX_UPLOAD_BYTES)"))
            return
        try:
            acl = self._acl(drive, str(item["id"]))
            content = self.http.get(f"/drives/{drive}/items/{item['id']}/content").content
        except HttpStatusError as exc:
            if exc.status == 404:
                return
            yield ConnectorFailure(external_id, "source_item_unreadable",
                                   f"Microsoft Graph answered HTTP {exc.status}")
            return
        yield RawDocument(external_id=external_id, title=name.rsplit(".", 1)[0],
                          content=content, mime_type=mime, acl=acl, url=item.get("webUrl"),
                          updated_at=_time(item.get("lastModifiedDateTime")),
                          metadata={"drive_id": drive})

    # --- permissions -------------------------------------------------------------------

    def permissions(self) -> PermissionSnapshot:
        self._members.clear()
        acls: list[AclChange] = []
        for drive in self.drives:
            url: str | None = f"/drives/{drive}/root/delta"
            while url:
                page = self.http.get_json(url)
                for item in page.get("value", []):
                    if "file" in item and not item.get("deleted"):
                        acls.append(AclChange(f"{drive}:{item['id']}",
                                              self._acl(drive, str(item["id"]))))
                url = page.get("@odata.nextLink")
        groups = [SyncedGroup(self._group(gid), members)
                  for gid, members in sorted(self._members.items())]
        return PermissionSnapshot(groups=groups, acls=acls)

    def _acl(self, drive: str, item_id: str) -> Acl:
        allowed: set[str] = set()
        for perm in self._paged(f"/drives/{drive}/items/{item_id}/permissions"):
            if not perm.get("roles"):
                continue
            link = perm.get("link") or {}
            if link.get("scope") == "organization" and self.org_links_grant_everyone:
                allowed.add(EVERYONE)
            identities = [perm.get("grantedToV2") or {},
                          *(perm.get("grantedToIdentitiesV2") or [])]
            for identity in identities:
                allowed.update(self._identity(identity))
        return Acl(allow=frozenset(allowed))

    def _identity(self, identity: Mapping[str, Any]) -> set[str]:
        group = identity.get("group")
        if group and group.get("id"):
            self._members_of(str(group["id"]))
            return {self._group(str(group["id"]))}
        user = identity.get("user") or {}
        site_user = identity.get("siteUser") or {}
        email = user.get("email") or site_user.get("email")
        if not email and user.get("id"):
            email = self._email(str(user["id"]))
        return {user_principal(str(email))} if email else set()

    def _members_of(self, group_id: str) -> frozenset[str]:
        if group_id not in self._members:
            members: set[str] = set()
            for user in self._paged(f"/groups/{group_id}/transitiveMembers/microsoft.graph.user"
                                    "?$select=id,mail,userPrincipalName"):
                email = user.get("mail") or user.get("userPrincipalName")
                if email:
                    members.add(user_principal(str(email)))
            self._members[group_id] = frozenset(members)
        return self._members[group_id]

    def _email(self, user_id: str) -> str | None:
        if user_id not in self._emails:
            try:
                data = self.http.get_json(f"/users/{user_id}?$select=mail,userPrincipalName")
            except HttpStatusError:
                data = {}
            email = data.get("mail") or data.get("userPrincipalName")
            self._emails[user_id] = str(email) if email else None
        return self._emails[user_id]

    def _paged(self, url: str) -> Iterator[Mapping[str, Any]]:
        next_url: str | None = url
        while next_url:
            page = self.http.get_json(next_url)
            yield from page.get("value", [])
            next_url = page.get("@odata.nextLink")

    def _group(self, group_id: str) -> str:
        return f"group:{self.source_id}:{group_id}"

    @property
    def http(self) -> JsonClient:
        if self._http is None:
            self._http = JsonClient(self.graph_url, headers={
                "Authorization": f"Bearer {self._token()}", "Accept": "application/json"},
                transport=self.transport, source_label="Microsoft Graph", **self._retry)
        return self._http

    def _token(self) -> str:
        if "bearer_token" in self.credentials:
            return self.credentials["bearer_token"]
        creds = self.credentials
        with httpx.Client(transport=self.transport, timeout=30) as client:
            response = client.post(
                f"{self.login_url}/{creds['tenant_id']}/oauth2/v2.0/token",
                data={"client_id": creds["client_id"], "client_secret": creds["client_secret"],
                      "scope": "https://graph.microsoft.com/.default",
                      "grant_type": "client_credentials"})
        if response.status_code in (400, 401):
            raise SourceCredentialsInvalid(
                "Microsoft Entra refused the client credentials; update the source's "
                "client_secret with PATCH /v1/sources/{id}")
        response.raise_for_status()
        return str(response.json()["access_token"])


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
