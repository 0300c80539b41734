"""``DELETE /api/v1/admin/users/{user_id}``: an admin erases a user; nobody else can."""

from __future__ import annotations

import sqlalchemy as sa

from propdesk.model.ids import AccountId, UserId
from propdesk.services.access import api_keys
from propdesk.services.access.users import user_hash
from propdesk.services.accounts import lifecycle
from propdesk.store.tables import accounts, users
from tests.api.conftest import Api

USERS = "/api/v1/admin/users"


def _user(api: Api, user: str) -> AccountId:
    row = lifecycle.create_account(
        api.ctx, lifecycle.NewAccount(idempotency_key=user, owner_user_id=UserId(user))
    )
    account_id = AccountId(row.id)
    lifecycle.start(api.ctx, account_id)
    api_keys.create_key(api.ctx.engine, account_id, clock=api.ctx.clock)
    return account_id


def _exists(api: Api, user: str) -> bool:
    with api.ctx.engine.connect() as conn:
        found = conn.execute(sa.select(users.c.id).where(users.c.id == user)).first()
        owned = conn.execute(sa.select(accounts.c.id).where(accounts.c.owner_user_id == user)).first()
    return found is not None or owned is not None


def test_admin_erases_a_user_and_a_service_token_is_refused(api: Api) -> None:
    _user(api, "alice")
    _user(api, "bob")
    refused = api.client.request("DELETE", f"{USERS}/alice", json={"reason": "x"}, headers=api.service)
    assert refused.status_code == 403
    assert _exists(api, "alice")
    no_reason = api.client.request("DELETE", f"{USERS}/alice", json={}, headers=api.admin)
    assert no_reason.status_code == 422
    erased = api.client.request("DELETE", f"{USERS}/alice", json={"reason": "GDPR"}, headers=api.admin)
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert body["userSha256"] == user_hash("alice")
    assert body["accounts"] == 1
    assert body["rows"]["api_keys"] == 1
    assert not _exists(api, "alice")
    assert _exists(api, "bob")
    again = api.client.request("DELETE", f"{USERS}/alice", json={"reason": "GDPR"}, headers=api.admin)
    assert again.status_code == 404
    assert again.json()["code"] == "user_not_found"
