"""The demo company (api/demo/): groups, users, admins and documents, loaded once into an
empty data dir; fresh query keys for every demo user at each start (keys show only once)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from acl import ensure_tenant, put_group
from core import RawDocument, Settings
from core.models import ApiKey, Document, PrincipalRow
from ingest import FilesystemConnector
from workers.pipeline import ingest_documents
from workers.services import Services
from workers.sources import get_or_create_source

from .auth import key_digest, new_key

DEMO_DIR = Path(__file__).parent / "demo"
DEMO_SOURCE = "demo-company"
DEMO_KEY_PREFIX = "demo:"


@dataclass(frozen=True)
class DemoUser:
    id: str
    name: str
    title: str
    key: str
    admin_key: str | None = None
    """Demo admins (the company's ``admins``) also get an admin key of their own, which
    the web page uses for the admin pages only."""

    def public(self) -> dict[str, Any]:
        """What the demo sign-in picker lists: no keys."""
        return {"id": self.id, "name": self.name, "title": self.title,
                "admin": self.admin_key is not None}


def company() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DEMO_DIR / "company.json").read_text())
    return data


def is_empty(services: Services, tenant: str) -> bool:
    with services.sessions() as session:
        count = session.scalar(select(func.count()).select_from(Document).where(
            Document.tenant_id == tenant))
    return not count


def load_company(services: Services) -> int:
    """Groups, users and every corpus document; returns the number of documents indexed."""
    data = company()
    tenant = data.get("tenant", "default")
    admin_group = services.settings.admin_group
    with services.sessions() as session, session.begin():
        ensure_tenant(session, tenant)
        for user in data["users"]:
            session.merge(PrincipalRow(tenant_id=tenant, id=user["id"],
                                       display_name=user.get("name")))
        groups: dict[str, list[str]] = dict(data["groups"])
        groups[admin_group] = sorted(set(groups.get(admin_group, [])) | set(data["admins"]))
        for group_id in _members_first(groups):
            put_group(session, tenant=tenant, group_id=group_id, members=groups[group_id])
        source = get_or_create_source(session, tenant=tenant, name=DEMO_SOURCE,
                                      kind="filesystem")
        source.config = {"root": str(DEMO_DIR / "corpus")}  # what "Sync now" reads
        source_id = source.id
    connector = FilesystemConnector(DEMO_DIR / "corpus",
                                    max_bytes=services.settings.max_upload_bytes)
    raws = [item for item in connector.documents() if isinstance(item, RawDocument)]
    outcomes = ingest_documents(services, raws, tenant=tenant, source_id=source_id)
    return sum(1 for o in outcomes if o.status in {"indexed", "unchanged"})


def _members_first(groups: dict[str, list[str]]) -> list[str]:
    """Groups ordered so that a nested group is created before the groups holding it."""
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(group_id: str) -> None:
        if group_id in seen:
            return
        seen.add(group_id)
        for member in groups.get(group_id, []):
            if member in groups:
                visit(member)
        ordered.append(group_id)

    for group_id in sorted(groups):
        visit(group_id)
    return ordered


def mint_demo_keys(services: Services, settings: Settings) -> tuple[list[DemoUser], str]:
    """Revoke the previous demo keys; mint a query key per user, an admin key per demo
    admin (bound to that user, so the audit log names who acted) and one admin key."""
    data = company()
    admins = set(data.get("admins", []))
    tenant = data.get("tenant", "default")
    now = datetime.now(UTC)
    users: list[DemoUser] = []
    with services.sessions() as session, session.begin():
        for old in session.scalars(select(ApiKey).where(
                ApiKey.tenant_id == tenant, ApiKey.name.startswith(DEMO_KEY_PREFIX),
                ApiKey.revoked_at.is_(None))):
            old.revoked_at = now
        for user in data["users"]:
            key = _add_key(session, settings, tenant=tenant, name=f"demo:{user['id']}",
                           scopes=["query"], user_id=user["id"])
            own_admin_key = _add_key(
                session, settings, tenant=tenant, name=f"demo:admin:{user['id']}",
                scopes=["admin"], user_id=user["id"]) if user["id"] in admins else None
            users.append(DemoUser(id=user["id"], name=user.get("name", ""),
                                  title=user.get("title", ""), key=key,
                                  admin_key=own_admin_key))
        admin_key = _add_key(session, settings, tenant=tenant, name="demo:admin",
                             scopes=["admin"], user_id=None)
    return users, admin_key


def _add_key(session: Any, settings: Settings, *, tenant: str, name: str,
             scopes: list[str], user_id: str | None) -> str:
    key = new_key()
    session.add(ApiKey(id=uuid.uuid4().hex, tenant_id=tenant, name=name,
                       digest=key_digest(key, settings=settings), prefix=key[:8],
                       scopes=scopes, user_id=user_id, source_ids=[]))
    return key
