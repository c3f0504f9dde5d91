"""ASGI middleware: request ids, the streaming upload limit, JSON-only bodies, metrics."""

from __future__ import annotations

import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import ClearanceError, DocumentTooLarge, UnsupportedMediaType

from . import timing
from .errors import error_response

_BODY_METHODS = {b"POST", b"PUT", b"PATCH"}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("clearance_http_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("clearance_http_request_seconds", "HTTP request latency",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.index_lag = Counter("clearance_index_lag_hits_total",
                                 "hits dropped by the SQL re-check", registry=self.registry)
        self.abstentions = Counter("clearance_answers_total", "answers given",
                                   ["abstained"], registry=self.registry)
        self.model_output_violations = Counter(
            "clearance_model_output_violations_total",
            "model replies that broke the structured-output schema", ["adapter"],
            registry=self.registry)
        self.answer_cache = Counter(
            "clearance_answer_cache_total", "answers looked up in the answer cache",
            ["result"], registry=self.registry)
        self.model_tokens = Counter(
            "clearance_model_tokens_total", "tokens a model provider reported",
            ["model", "direction"], registry=self.registry)
        self.model_fallbacks = Counter(
            "clearance_model_fallbacks_total", "answers given by the extractive fallback",
            ["adapter", "reason"], registry=self.registry)


class ClearanceMiddleware:
    """One pure-ASGI layer (no BaseHTTPMiddleware buffering): it refuses a body over
    ``max_body_bytes`` while it streams in — from Content-Length at once, or by counting —
    refuses non-JSON bodies on /v1 (415), stamps X-Request-Id, records metrics, and with
    ``server_timing`` writes the request's steps into a Server-Timing header (timing.py)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, metrics: Metrics,
                 server_timing: bool = False) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.server_timing = server_timing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 500}
        over_limit = {"hit": False, "replaced": False}
        steps = timing.start() if self.server_timing else None

        async def send_with_id(message: Message) -> None:
            if over_limit["hit"]:  # the app's reply to a cut-off body is replaced by a 413
                if over_limit["replaced"]:
                    return
                over_limit["replaced"] = True
                over_limit["hit"] = False
                await error_response(_too_large(self.max_body_bytes))(scope, receive,
                                                                      send_with_id)
                over_limit["hit"] = True
                return
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                if steps is not None:
                    total_ms = (time.perf_counter() - started) * 1000
                    headers.append((b"server-timing", timing.header_value(steps, total_ms)))
                message = {**message, "headers": headers}
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await error_response(refusal)(scope, receive, send_with_id)
        else:
            await self.app(scope, self._limited(receive, over_limit), send_with_id)
        route = scope.get("route")
        path = getattr(route, "path", "unmatched")
        self.metrics.requests.labels(scope["method"], path, str(status["code"])).inc()
        self.metrics.latency.labels(scope["method"], path).observe(time.perf_counter() - started)

    def _refusal(self, scope: Scope) -> ClearanceError | None:
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return _too_large(self.max_body_bytes)
        if scope["method"].encode() in _BODY_METHODS and scope["path"].startswith("/v1/"):
            ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            has_body = (length not in (None, b"0")) or b"transfer-encoding" in headers
            if has_body and ctype != b"application/json" and not ctype.endswith(b"+json"):
                return UnsupportedMediaType("Send the body as JSON (Content-Type: "
                                            "application/json).")
        return None

    def _limited(self, receive: Receive, over_limit: dict[str, bool]) -> Receive:
        seen = {"bytes": 0}
        limit = self.max_body_bytes

        async def receive_limited() -> Message:
            message: dict[str, Any] = dict(await receive())
            if message["type"] == "http.request":
                seen["bytes"] += len(message.get("body", b""))
                if seen["bytes"] > limit:
                    over_limit["hit"] = True
                    raise _too_large(limit)
            return message

        return receive_limited


def _too_large(limit: int) -> DocumentTooLarge:
    return DocumentTooLarge(f"The request body is over the limit of {limit} bytes "
                            "(CLEARANCE_MAX_UPLOAD_BYTES).")
