"""``clearance ingest --server URL``: send documents through a running server's v1 API
(used when that server holds the embedded index, which opens in one process only)."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from urllib.parse import quote

import httpx

from core import RawDocument

Result = tuple[str, int, str | None, str | None]


class RemoteIngest:
    device = "via server"

    def __init__(self, base_url: str, *, key: str | None, source: str, tenant: str,
                 client: httpx.Client | None = None) -> None:
        if not key:
            raise SystemExit("--server needs an admin API key: pass --key or set "
                             "CLEARANCE_ADMIN_API_KEY.")
        self.client = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=300.0)
        self.client.headers["Authorization"] = f"Bearer {key}"
        self.tenant = tenant
        self.source_id = self._source_id(source)

    def _source_id(self, name: str) -> str:
        listing = self.client.get("/v1/sources")
        _raise_for_error(listing)
        for source in listing.json().get("sources", []):
            if source.get("name") == name:
                return str(source["id"])
        created = self.client.post("/v1/sources", json={"name": name, "kind": "push",
                                                        "config": {}})
        _raise_for_error(created)
        return str(created.json()["id"])

    def send_all(self, batches: Iterable[list[RawDocument]]) -> Iterator[list[Result]]:
        """``send`` for each batch in order."""
        return (self.send(raws) for raws in batches)

    def send(self, raws: list[RawDocument]) -> list[Result]:
        return [self._send_one(raw) for raw in raws]

    def _send_one(self, raw: RawDocument) -> Result:
        acl = raw.acl
        body = {
            "title": raw.title, "url": raw.url, "mime_type": raw.mime_type,
            "content_base64": base64.b64encode(raw.content).decode(),
            "acl": {"allow": sorted(acl.allow) if acl else [],
                    "deny": sorted(acl.deny) if acl else []},
            "updated_at": raw.updated_at.isoformat() if raw.updated_at else None,
            "metadata": dict(raw.metadata),
        }
        path = f"/v1/sources/{self.source_id}/documents/{quote(raw.external_id, safe='')}"
        response = self.client.put(path, params={"wait": "true"}, json=body)
        if response.status_code == 200:
            data = response.json()
            return ("indexed", int(data.get("chunks", 0)), None, None)
        error = _error_of(response)
        return ("failed", 0, error[0], error[1])

    def close(self) -> None:
        self.client.close()


def _error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return f"http_{response.status_code}", response.text[:200]


def _raise_for_error(response: httpx.Response) -> None:
    if response.status_code >= 400:
        code, message = _error_of(response)
        raise SystemExit(f"server refused ({response.status_code} {code}): {message}")
