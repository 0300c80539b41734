"""Alpaca-style key pairs: one account per pair, sent as ``APCA-API-KEY-ID`` / ``APCA-API-SECRET-KEY``.

A key id looks like Alpaca's (``PK`` and 18 upper-case letters and digits) so that bots which
check its shape accept it; the secret has 40 characters (about 238 bits). Only the SHA-256 of
the secret is stored and ``hmac.compare_digest`` compares it in constant time, as for bearer
tokens (see :mod:`propdesk.services.access.tokens`). A pair belongs to its account for life: a reset
keeps it working. Revoking it bumps the revocation version, as for tokens.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from propdesk.model.ids import AccountId
from propdesk.services.access.tokens import digest, opens
from propdesk.services.clock import Clock
from propdesk.services.errors import NotFound
from propdesk.store.api_keys import ApiKeyRecord
from propdesk.store.uow import UnitOfWork

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
SEPARATOR = "\x1f"  # joins key id and secret into one cache key; neither can contain it


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A new pair as shown once to its owner."""

    account_id: AccountId
    key_id: str
    secret_key: str


@dataclass(frozen=True, slots=True)
class KeyPrincipal:
    """Who is calling the Alpaca-compatible API: the key and the one account it trades."""

    key_id: str
    account_id: AccountId


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key_id: str
    account_id: AccountId
    created_at: datetime
    revoked_at: datetime | None


def create_key(engine: Engine, account_id: AccountId, *, clock: Clock) -> KeyPair:
    """Store a new pair for ``account_id``; the secret exists only in the returned value."""
    key_id = "PK" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(18))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
    with UnitOfWork(engine) as uow:
        uow.accounts.get(account_id)  # AccountNotFound (404) for an unknown account
        uow.api_keys.insert(
            ApiKeyRecord(id=key_id, account_id=account_id, secret_hash=digest(secret), created_at=clock())
        )
        uow.commit()
    return KeyPair(account_id, key_id, secret)


def authenticate_key(engine: Engine, key_id: str, secret: str) -> KeyPrincipal | None:
    """The principal for a pair, or None for an unknown, revoked or wrong one."""
    if len(key_id) > 32:
        return None
    with UnitOfWork(engine, read_only=True) as uow:
        record = uow.api_keys.find(key_id)
    valid = opens(record, secret)  # compared even for an unknown id (constant time)
    if record is None or not valid:
        return None
    return KeyPrincipal(record.id, AccountId(record.account_id))


def lookup(engine: Engine) -> Callable[[str], KeyPrincipal | None]:
    """A one-argument lookup for :class:`~propdesk.services.access.tokens.CachedAuthenticator`: the
    argument is ``key_id + SEPARATOR + secret``."""

    def find(joined: str) -> KeyPrincipal | None:
        key_id, _, secret = joined.partition(SEPARATOR)
        return authenticate_key(engine, key_id, secret)

    return find


def list_keys(engine: Engine, account_id: AccountId) -> list[KeyInfo]:
    with UnitOfWork(engine, read_only=True) as uow:
        uow.accounts.get(account_id)
        return [
            KeyInfo(r.id, AccountId(r.account_id), r.created_at, r.revoked_at)
            for r in uow.api_keys.of_account(account_id)
        ]


def revoke_key(engine: Engine, key_id: str, *, clock: Clock) -> None:
    with UnitOfWork(engine) as uow:
        if not uow.api_keys.revoke(key_id, clock()):
            raise NotFound("key_not_found", f"no active key {key_id}")
        uow.auth_version.bump()  # every server process drops its cache of valid pairs
        uow.commit()


def is_active(engine: Engine, key_id: str) -> bool:
    """Whether the key exists and is not revoked (an open stream re-checks its key with this)."""
    with UnitOfWork(engine, read_only=True) as uow:
        record = uow.api_keys.find(key_id)
    return record is not None and record.revoked_at is None
