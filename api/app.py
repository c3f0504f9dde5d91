"""``create_app(settings)``: the one place the API's engines, stores and models are built."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from core import Settings
from core.errors import CODES
from workers.services import Services, build_services

from .errors import install_error_handlers
from .middleware import ClearanceMiddleware, Metrics
from .routes import asking, documents, groups, inventory, keys, me, ops, sources
from .routes import auth_config
from .state import AppState
from .web import router as web_router

log = logging.getLogger("clearance.api")


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    """The v1 API and the web page. ``services`` lets a caller that already opened the
    stores (``clearance serve --demo``, tests) hand them over; else they open at start-up."""
    metrics = Metrics()
    owned = services is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = services or build_services(settings)
        state = AppState.build(settings, opened, metrics)
        app.state.clearance = state
        log.info("clearance ready", extra={"embedder_device": opened.embedder.device})
        try:
            yield
        finally:
            state.close()
            if owned:
                opened.close()

    app = FastAPI(
        title="Clearance", version="1.0.0", lifespan=lifespan,
        description="Permission-aware answers from your company's documents. Error codes: "
        + ", ".join(sorted(CODES)),
    )
    install_error_handlers(app)
    for router in (ops.router, keys.router, groups.router, sources.router,
                   documents.router, inventory.router, asking.router, me.router,
                   web_router):
        app.include_router(router)
    app.include_router(auth_config.router)  # GET /v1/auth/config (public)
    app.add_middleware(ClearanceMiddleware, max_body_bytes=settings.max_upload_bytes,
                       metrics=metrics, server_timing=settings.server_timing)
    _document_errors(app)
    return app


def _document_errors(app: FastAPI) -> None:
    """The OpenAPI document lists the error envelope and every stable code once."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string", "enum": sorted(CODES)},
                               "message": {"type": "string"}}}},
        }
        error = {"description": "Error (see the codes in the Error schema)",
                 "content": {"application/json": {
                     "schema": {"$ref": "#/components/schemas/Error"}}}}
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                responses["default"] = error
                if "HTTPValidationError" in str(responses.get("422", "")):
                    responses["422"] = error  # ours, not FastAPI's {"detail"}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
