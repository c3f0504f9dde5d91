"""Every error leaves as ``{"error": {"code", "message"}}`` with the status its code maps to
(core/errors.py lists the codes). Never a stack trace, never FastAPI's ``{"detail"}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import (
    ClearanceError,
    InvalidRequest,
    MalformedJson,
    MethodNotAllowed,
    NotFound,
    RequestError,
)

log = logging.getLogger("clearance.api")


def error_response(exc: ClearanceError) -> JSONResponse:
    headers = {}
    if exc.retry_after_s is not None:
        headers["Retry-After"] = str(int(exc.retry_after_s + 0.999))
    if exc.http_status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": {"code": exc.code, "message": exc.message}},
                        status_code=exc.http_status, headers=headers)


def _validation_message(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


async def _on_clearance_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ClearanceError)
    return error_response(exc)


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(MalformedJson("The request body is not valid JSON."))
    return error_response(InvalidRequest(_validation_message(errors)))


async def _on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response(NotFound("No such route or resource."))
    if exc.status_code == 405:
        return error_response(MethodNotAllowed("This route does not take that method."))
    error = RequestError(str(exc.detail))
    return JSONResponse({"error": {"code": error.code, "message": error.message}},
                        status_code=exc.status_code)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    log.error("unhandled error", exc_info=exc, extra={"request_id": request_id})
    return JSONResponse({"error": {"code": "internal_error",
                                   "message": f"Something went wrong (request {request_id})."}},
                        status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ClearanceError, _on_clearance_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
