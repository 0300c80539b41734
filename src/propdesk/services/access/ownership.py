"""Ownership of accounts on the service API: who may see and change which account.

Every account has an owner: the user behind its ``/v2`` key pairs, or the bearer token that created
it over ``POST /api/v1/prop/accounts``. A service token may use the accounts it created plus those
granted to it (``propdesk token create --account ID``); an admin token may use every account. Any
other account is reported exactly as a missing one (:class:`AccountNotFound`, answered 404
``account_not_found``), so a token never learns that an account it may not use exists.

The check reads the database on every call (an indexed lookup), never a cached principal, so a
grant takes effect at once in every process.
"""

from __future__ import annotations

from collections.abc import Iterable

from propdesk.model.ids import AccountId
from propdesk.services.access.tokens import Principal, Role
from propdesk.services.context import ServiceContext
from propdesk.store.errors import AccountNotFound
from propdesk.store.uow import UnitOfWork


def sees_all(principal: Principal | None) -> bool:
    """True for an admin token and for in-process callers (jobs, CLI), which pass no principal."""
    return principal is None or principal.role is Role.ADMIN


def check(uow: UnitOfWork, principal: Principal | None, account_id: AccountId) -> None:
    """Raise :class:`AccountNotFound` unless ``principal`` may use the account (inside ``uow``)."""
    if sees_all(principal):
        return
    assert principal is not None
    if not uow.ownership.can_see(principal.token_id, account_id):
        raise AccountNotFound(account_id)


def require_access(ctx: ServiceContext, principal: Principal | None, account_id: AccountId) -> None:
    """:func:`check` in its own read-only transaction (what the API runs before every account route)."""
    if sees_all(principal):
        return
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        check(uow, principal, account_id)


def visible(
    uow: UnitOfWork, principal: Principal | None, account_ids: Iterable[AccountId]
) -> list[AccountId]:
    """The ids of ``account_ids`` that ``principal`` may use, in their given order."""
    ids = list(account_ids)
    if sees_all(principal):
        return ids
    assert principal is not None
    allowed = uow.ownership.visible_ids(principal.token_id, ids)
    return [account_id for account_id in ids if account_id in allowed]


def owner_token_of(principal: Principal | None) -> str | None:
    """The token recorded as the owner of an account this principal creates."""
    return None if principal is None else principal.token_id
