"""``/api/v1/admin/users``: erase a user and everything held about them (admin token; audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from propdesk.api import schemas as s
from propdesk.api.auth import admin_only, context
from propdesk.api.routing import api_router
from propdesk.model.ids import UserId
from propdesk.services.access.tokens import Principal
from propdesk.services.access.users import erase_user
from propdesk.services.context import ServiceContext

router = api_router(prefix="/api/v1/admin/users", tags=["admin"])


class UserErasedOut(s.Wire):
    user_sha256: str
    accounts: int
    rows: dict[str, int]


@router.delete("/{user_id}", response_model=UserErasedOut)
def erase(
    user_id: UserId,
    body: s.AdminReasonIn,
    ctx: Annotated[ServiceContext, Depends(context)],
    who: Annotated[Principal, Depends(admin_only)],
) -> UserErasedOut:
    """Delete the user, their accounts and every row keyed to them (their ledger included) in one
    transaction; one audit row names them by the SHA-256 of their id. 404 for an unknown user."""
    erasure = erase_user(ctx, user_id, actor=who.name, reason=body.reason)
    return UserErasedOut(user_sha256=erasure.user_sha256, accounts=erasure.accounts, rows=erasure.rows)
