"""Who the caller is: the web page asks once after sign-in which views to offer.

``is_admin`` is true for an admin key and for a user in ``CLEARANCE_ADMIN_GROUP``
(nested groups count). It only decides what the page shows: every admin route checks
the credential itself, so a page that guessed wrong still gets a 403.
"""

from __future__ import annotations

from fastapi import APIRouter

from acl import group_principal
from core import Principal, user_principal
from core.models import PrincipalRow

from ..deps import CallerDep, SessionDep, StateDep
from ..schemas import MePublic

router = APIRouter(prefix="/v1", tags=["me"])


@router.get("/me", response_model=MePublic)
def me(caller: CallerDep, state: StateDep, session: SessionDep) -> MePublic:
    user_id = user_principal(caller.user_id) if caller.user_id else None
    is_admin = caller.is_admin
    name = None
    if user_id is not None:
        if not is_admin:
            entitlements = state.resolver.entitlements_for(
                Principal(id=user_id, tenant=caller.tenant))
            is_admin = group_principal(state.settings.admin_group) in entitlements.principals
        row = session.get(PrincipalRow, (caller.tenant, user_id))
        name = row.display_name if row is not None else None
    return MePublic(user_id=user_id, name=name, tenant=caller.tenant,
                    scopes=sorted(caller.scopes), is_admin=is_admin)
