"""The web page at ``/``: pick a demo user (demo mode), ask, read a cited answer."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

router = APIRouter(include_in_schema=False)
_PAGE = Path(__file__).parent / "static" / "index.html"


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    return HTMLResponse(_PAGE.read_text(encoding="utf-8"))


@router.get("/demo/users")
def demo_users(request: Request) -> JSONResponse:
    """Only in demo mode: the demo users and their query keys (also printed at start-up)."""
    users = getattr(request.app.state, "demo_users", None)
    if not users:
        return JSONResponse({"demo": False, "users": []})
    return JSONResponse({"demo": True, "users": users})
