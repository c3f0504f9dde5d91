"""A small JSON client for source APIs: one ``httpx.Client`` (any transport, so tests hand
in ``httpx.MockTransport``), paging by ``_links.next``, and the source's back-off rules.

- 429 and 503 (and 502/504): wait what ``Retry-After`` says (seconds or an HTTP date), else
  an exponential back-off with jitter, up to ``max_retries``; a wait longer than
  ``max_wait_s`` is not slept here but raised as ``SourceUnavailable(retry_after_s=...)``
  so the task queue retries later instead of holding a worker.
- 401 raises ``SourceCredentialsInvalid`` (the source needs new credentials).
- Other 4xx raise ``HttpStatusError`` for the caller to decide (a 404 page was deleted
  meanwhile; a 403 page is one item's failure, not the run's).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import httpx

from .changes import SourceCredentialsInvalid, SourceUnavailable

_RETRY_STATUSES = frozenset({429, 502, 503, 504})


class HttpStatusError(Exception):
    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"HTTP {status} for {url}")
        self.status = status
        self.url = url


class JsonClient:
    def __init__(self, base_url: str, *, headers: Mapping[str, str],
                 transport: httpx.BaseTransport | None = None, timeout_s: float = 30.0,
                 max_retries: int = 5, max_wait_s: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep, source_label: str = "source",
                 ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, headers=dict(headers),
                                    transport=transport, timeout=timeout_s)
        self.max_retries, self.max_wait_s = max_retries, max_wait_s
        self.sleep = sleep
        self.label = source_label
        self.requests = 0
        self.waits: list[float] = []

    def close(self) -> None:
        self._client.close()

    def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.get(url, params).json()

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        attempt = 0
        while True:
            self.requests += 1
            try:
                response = self._client.get(url, params=params)
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise SourceUnavailable(f"{self.label} unreachable "
                                            f"({type(exc).__name__})") from exc
                self._wait(self._backoff(attempt))
                attempt += 1
                continue
            if response.status_code == 401:
                raise SourceCredentialsInvalid(
                    f"{self.label} refused the credentials (HTTP 401); update the source's "
                    "token with PATCH /v1/sources/{id}")
            if response.status_code in _RETRY_STATUSES:
                wait = _retry_after(response) or self._backoff(attempt)
                if attempt >= self.max_retries or wait > self.max_wait_s:
                    raise SourceUnavailable(
                        f"{self.label} answered HTTP {response.status_code}; retry later",
                        retry_after_s=wait)
                self._wait(wait)
                attempt += 1
                continue
            if response.status_code >= 400:
                raise HttpStatusError(response.status_code, str(response.request.url))
            return response

    def paged(self, url: str, params: Mapping[str, Any] | None = None,
              ) -> Iterator[tuple[list[Any], str | None]]:
        """Each page's ``results`` and the URL of the next page (None on the last). Follows
        ``_links.next`` (or the ``Link: rel=next`` header) until there is none."""
        next_url: str | None = url
        first = True
        while next_url:
            data = self.get_json(next_url, params if first else None)
            first = False
            next_url = self.next_link(data)
            yield list(data.get("results", [])), next_url

    def next_link(self, data: Mapping[str, Any]) -> str | None:
        links = data.get("_links") or {}
        nxt = links.get("next")
        if not isinstance(nxt, str) or not nxt:
            return None
        base = links.get("base")
        if isinstance(base, str) and base and not nxt.startswith("/wiki"):
            return urljoin(base.rstrip("/") + "/", nxt.lstrip("/"))
        return nxt

    def _backoff(self, attempt: int) -> float:
        return float(min(self.max_wait_s, (2 ** attempt) * (0.5 + random.random() / 2)))

    def _wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.sleep(seconds)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
