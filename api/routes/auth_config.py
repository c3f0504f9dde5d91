"""How to sign in, for the web page: ``GET /v1/auth/config`` (public, no credential).

``mode`` is ``oidc`` when ``CLEARANCE_OIDC_ISSUER`` is set (the page runs authorization
code + PKCE against the issuer's endpoints, with ``api/static/oidc.js``, served by
api/web.py at ``/static/oidc.js``), ``demo`` when ``clearance serve --demo`` loaded the
demo users (the page offers its picker), else ``keys`` (API keys only; the page asks for one). Nothing here is secret: a PKCE client
has no secret, and the endpoints are the issuer's public discovery document.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ..deps import StateDep

router = APIRouter(tags=["auth"])


class AuthConfigPublic(BaseModel):
    mode: Literal["oidc", "demo", "keys"]
    issuer: str | None = None
    client_id: str | None = None
    audience: str | None = None
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    end_session_endpoint: str | None = None
    scopes: list[str] = []


@router.get("/v1/auth/config", response_model=AuthConfigPublic)
def auth_config(state: StateDep, request: Request) -> AuthConfigPublic:
    """How the page signs a user in. In ``oidc`` mode the issuer's endpoints come from its
    discovery document (503 ``identity_provider_unavailable`` while it cannot be read)."""
    settings = state.settings
    if state.oidc is None:
        demo = bool(getattr(request.app.state, "demo_users", None))
        return AuthConfigPublic(mode="demo" if demo else "keys")
    discovery = state.oidc.discovery()
    return AuthConfigPublic(
        mode="oidc", issuer=settings.oidc_issuer, client_id=settings.oidc_client_id,
        audience=settings.oidc_audience,
        authorization_endpoint=_string(discovery.get("authorization_endpoint")),
        token_endpoint=_string(discovery.get("token_endpoint")),
        end_session_endpoint=_string(discovery.get("end_session_endpoint")),
        scopes=list(settings.oidc_scopes))


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
