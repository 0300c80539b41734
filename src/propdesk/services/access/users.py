"""A user's data: export everything propdesk holds about them, or erase it (GDPR).

:func:`export_user` reads, in one snapshot, the user row and every row keyed to one of their
accounts or to their user id (found by walking the schema, see :mod:`propdesk.store.user_data`),
as JSON-ready values: decimals as strings, times in ISO 8601. Secrets never leave: columns whose
name contains ``secret`` (the hashes of key pairs) are left out.

:func:`erase_user` deletes all of it in one transaction, the user's ledger rows included through
the ledger's one sanctioned delete, and leaves a single admin audit row that names the user only
by the SHA-256 of their id and is keyed to no account. Other users' rows are untouched.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from propdesk.model.ids import UserId
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Conflict, Invalid, NotFound
from propdesk.services.transactions import open_tx
from propdesk.store import user_data
from propdesk.store.tables import metadata
from propdesk.store.uow import UnitOfWork

ERASED_ACTION = "user_erased"
TIER_CHANGED_ACTION = "retention_tier_changed"
# How long the retention job keeps a user's closed history: free 90 days, pro 3 years, pro_plus
# forever. pro_plus is the default (existing and new users) so that no history is deleted
# until an operator chooses a shorter tier for a user.
RETENTION_TIERS = ("free", "pro", "pro_plus")
DEFAULT_RETENTION_TIER = "pro_plus"
_SECRET_COLUMNS = frozenset(c.name for t in metadata.tables.values() for c in t.c if "secret" in c.name)


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure removed: the hashed user id and the rows deleted per table."""

    user_sha256: str
    accounts: int
    rows: dict[str, int]


def user_hash(user_id: str) -> str:
    """The SHA-256 (hex) of a user id: how the audit log names an erased user."""
    return hashlib.sha256(user_id.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _not_found(user_id: str) -> NotFound:
    return NotFound("user_not_found", f"no user {user_id}")


def export_user(ctx: ServiceContext, user_id: UserId) -> dict[str, Any]:
    """Everything held about ``user_id`` as JSON-ready data: ``{"user_id", "exported_at", "tables"}``,
    ``tables`` mapping each table name to the user's rows. Raises NotFound for an unknown user."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        if uow.users.find(user_id) is None:
            raise _not_found(user_id)
        rows = user_data.user_rows(uow.connection, user_id, omit=_SECRET_COLUMNS)
    return {"user_id": user_id, "exported_at": ctx.clock().isoformat(), "tables": _plain(rows)}


def erase_user(ctx: ServiceContext, user_id: UserId, *, actor: str, reason: str) -> Erasure:
    """Delete every row of ``user_id`` in one transaction and audit it under the hashed id.

    Raises NotFound for an unknown user, and Conflict when an account owned by someone else was
    made under one of the user's accounts (its parent would vanish); either changes nothing.
    """
    with open_tx(ctx.engine) as uow:
        if uow.users.find(user_id) is None:
            raise _not_found(user_id)
        account_ids = user_data.owned_accounts(uow.connection, user_id)
        if blocking := user_data.foreign_children(uow.connection, account_ids):
            raise Conflict(
                "user_has_foreign_child_accounts",
                f"accounts of other users were made under this user's accounts: {', '.join(blocking)}",
                {"accounts": blocking},
            )
        accounts = len(account_ids)
        deleted = user_data.delete_user_rows(uow.connection, user_id)
        erasure = Erasure(user_hash(user_id), accounts, {k: v for k, v in deleted.items() if v})
        uow.audit.record(
            account_id=None,
            actor=actor,
            action=ERASED_ACTION,
            reason=reason,
            before=None,
            after={"user_sha256": erasure.user_sha256, "accounts": accounts, "rows": erasure.rows},
            at=ctx.clock(),
        )
        uow.auth_version.bump()  # every server process drops its cache of the erased key pairs
    return erasure


def set_retention_tier(ctx: ServiceContext, user_id: UserId, tier: str, *, actor: str) -> str:
    """Set the user's retention tier (one of :data:`RETENTION_TIERS`) and audit the change;
    returns the previous tier. Raises Invalid for an unknown tier, NotFound for an unknown user."""
    if tier not in RETENTION_TIERS:
        raise Invalid(
            "unknown_retention_tier", f"tier must be one of {', '.join(RETENTION_TIERS)}, not {tier!r}"
        )
    with open_tx(ctx.engine) as uow:
        previous = uow.users.retention_tier(user_id)
        if previous is None:
            raise _not_found(user_id)
        if previous != tier:
            uow.users.set_retention_tier(user_id, tier)
            uow.audit.record(
                account_id=None,
                actor=actor,
                action=TIER_CHANGED_ACTION,
                reason="retention tier set",
                before={"user_id": user_id, "retention_tier": previous},
                after={"user_id": user_id, "retention_tier": tier},
                at=ctx.clock(),
            )
    return previous
