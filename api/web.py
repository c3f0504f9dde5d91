"""The web UI: the ask page at ``/``, sign-in, and the admin pages under ``/admin``.

Pages are plain HTML (Jinja2 templates) with a little JavaScript from ``/static``; no
page carries data. The script calls the v1 API with the signed-in user's own credential,
so every permission is the API's: an admin page opened by a non-admin gets a 403 from
every route it calls and says so.

Sign-in follows ``GET /v1/auth/config`` (routes/auth_config.py): ``oidc`` runs
authorization code + PKCE with ``static/oidc.js`` (the issuer redirects back to
``/sign-in``); ``demo`` (``clearance serve --demo``) offers a picker of demo users, each of
which gets only its own query key (and, for a demo admin, its own admin key) from
``POST /demo/sign-in``; ``keys`` asks for an API key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict

from core.errors import NotFound

router = APIRouter(include_in_schema=False)
_HERE = Path(__file__).parent
STATIC_DIR = _HERE / "static"
_templates = Jinja2Templates(directory=_HERE / "templates")

# No inline script or style anywhere: a script that got into a page could read the key.
# connect-src allows https: for an OpenID Connect issuer's token endpoint.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self' https:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}

ADMIN_PAGES = {
    "sources": "Sources",
    "groups": "Groups",
    "documents": "Documents",
    "keys": "API keys",
    "audit": "Audit log",
}


def _page(request: Request, template: str, *, title: str, page: str,
          **context: Any) -> HTMLResponse:
    return _templates.TemplateResponse(
        request, template,
        {"title": title, "page": page, "admin_pages": ADMIN_PAGES, **context},
        headers=_PAGE_HEADERS)


@router.get("/", response_class=HTMLResponse)
def ask_page(request: Request) -> HTMLResponse:
    return _page(request, "ask.html", title="Ask", page="ask")


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> HTMLResponse:
    return _page(request, "sign_in.html", title="Sign in", page="sign-in")


@router.get("/admin")
def admin_home() -> RedirectResponse:
    return RedirectResponse("/admin/sources", status_code=307)


@router.get("/admin/{name}", response_class=HTMLResponse)
def admin_page(name: str, request: Request) -> HTMLResponse:
    if name not in ADMIN_PAGES:
        raise NotFound("No such page.")
    return _page(request, f"admin_{name}.html", title=ADMIN_PAGES[name], page=f"admin-{name}")


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    """The page's scripts and styles: flat names in api/static only."""
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or path.suffix not in _STATIC_TYPES \
            or not path.is_file():
        raise NotFound("No such file.")
    return FileResponse(path, media_type=_STATIC_TYPES[path.suffix],
                        headers={"Cache-Control": "no-cache",
                                 "X-Content-Type-Options": "nosniff"})


# --- demo sign-in ---------------------------------------------------------------------

class DemoSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str


@router.get("/demo/users")
def demo_users(request: Request) -> JSONResponse:
    """Only in demo mode: the demo users to pick from (no keys: see /demo/sign-in)."""
    users = getattr(request.app.state, "demo_users", None)
    if not users:
        return JSONResponse({"demo": False, "users": []})
    return JSONResponse({"demo": True, "users": [u.public() for u in users]})


@router.post("/demo/sign-in")
def demo_sign_in(body: DemoSignIn, request: Request) -> JSONResponse:
    """Only in demo mode: one demo user's own keys (printed at start-up as well)."""
    users = getattr(request.app.state, "demo_users", None) or []
    for user in users:
        if user.id == body.user_id:
            return JSONResponse({"user": user.public(), "key": user.key,
                                 "admin_key": user.admin_key},
                                headers={"Cache-Control": "no-store"})
    raise NotFound("No such demo user.")
