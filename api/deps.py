"""Typed dependencies: a route's signature says what it needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from core.audit import AuditContext

from . import timing
from .auth import Caller, acting_user, authenticate
from .state import AppState


# Dependencies that do no I/O are ``async def``: FastAPI runs a sync one on a worker
# thread, a hop that costs more than the work (measured with bench/search_latency.py).


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.clearance
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    with state.services.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_caller(state: StateDep, authorization: Annotated[str | None, Header()] = None,
               ) -> Caller:
    with timing.step("auth"), state.services.sessions() as session:
        return authenticate(session, authorization, settings=state.settings, oidc=state.oidc)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def request_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


RequestIdDep = Annotated[str, Depends(request_id_of)]


class Asker:
    """A search/answer caller resolved to the user it acts as."""

    def __init__(self, caller: Caller, user_id: str, audit: AuditContext) -> None:
        self.caller = caller
        self.user_id = user_id
        self.audit = audit


async def get_asker(state: StateDep, caller: CallerDep, request_id: RequestIdDep,
                    x_on_behalf_of: Annotated[str | None, Header()] = None) -> Asker:
    user_id = acting_user(caller, x_on_behalf_of)
    audit = AuditContext(tenant=caller.tenant, caller=caller.label, user_id=user_id,
                         on_behalf_of=user_id if x_on_behalf_of else None,
                         request_id=request_id,
                         store_query_text=state.settings.audit_query_text)
    return Asker(caller, user_id, audit)


AskerDep = Annotated[Asker, Depends(get_asker)]


def admin_audit(caller: Caller, request_id: str) -> AuditContext:
    return AuditContext(tenant=caller.tenant, caller=caller.label, request_id=request_id)
