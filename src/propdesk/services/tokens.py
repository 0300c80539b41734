"""Bearer tokens for the service and admin APIs.

A token is ``pd_<id>_<secret>``. Only the SHA-256 of the secret is stored; the id finds the row
and ``hmac.compare_digest`` compares the hashes in constant time, so neither the database nor
the timing of a failed comparison reveals a usable token. The secret has 256 bits of entropy,
which is why a fast hash (not a password KDF) is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Engine

from propdesk.services.clock import Clock
from propdesk.store.records import TokenRecord
from propdesk.store.uow import UnitOfWork

_TOKEN = re.compile(r"pd_([a-z0-9]{16})_([A-Za-z0-9_\-]{43})")


class Role(StrEnum):
    SERVICE = "service"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's id, name (recorded as the actor in audit rows) and role."""

    token_id: str
    name: str
    role: Role


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    engine: Engine, *, role: Role, name: str, clock: Clock, accounts: Sequence[str] = ()
) -> tuple[Principal, str]:
    """Store a new token and return it; the plain token exists only in this return value.

    ``accounts`` are granted to the token (besides those it will create); an unknown account id
    raises :class:`~propdesk.store.errors.AccountNotFound` and stores nothing.
    """
    if not name.strip():
        raise ValueError("a token needs a name")
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    with UnitOfWork(engine) as uow:
        uow.tokens.insert(
            TokenRecord(
                id=token_id, name=name, role=role.value, secret_hash=digest(secret), created_at=clock()
            )
        )
        for account_id in accounts:
            uow.accounts.get(account_id)
        uow.ownership.grant(token_id, accounts, clock())
        uow.commit()
    return Principal(token_id, name, role), f"pd_{token_id}_{secret}"


def authenticate(engine: Engine, token: str) -> Principal | None:
    """The principal a bearer token stands for, or None for a malformed, unknown or revoked one."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    token_id, secret = match.groups()
    with UnitOfWork(engine, read_only=True) as uow:
        record = uow.tokens.find(token_id)
    expected = record.secret_hash if record is not None else digest("")
    valid = hmac.compare_digest(digest(secret), expected)
    if record is None or not valid or record.revoked_at is not None:
        return None
    return Principal(record.id, record.name, Role(record.role))


P = TypeVar("P")


class CachedAuthenticator(Generic[P]):
    """A credential lookup with a short per-process memory of credentials that were valid.

    Every API call authenticates; remembering a valid credential for ``ttl_seconds`` saves a
    database transaction per request. Only successes are remembered (a wrong credential always
    costs a lookup), keyed by the credential's digest, and a revoked one stops working within
    ``ttl_seconds``. Used for bearer tokens and for Alpaca key pairs.
    """

    def __init__(
        self,
        lookup: Callable[[str], P | None],
        *,
        ttl_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._valid: dict[str, tuple[float, P]] = {}

    def __call__(self, credential: str) -> P | None:
        key = digest(credential)
        now = self._monotonic()
        hit = self._valid.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        principal = self._lookup(credential)
        if principal is None:
            self._valid.pop(key, None)
        else:
            if len(self._valid) > 10_000:
                self._valid.clear()
            self._valid[key] = (now + self._ttl, principal)
        return principal


def token_authenticator(engine: Engine, **options: Any) -> CachedAuthenticator[Principal]:
    return CachedAuthenticator(lambda token: authenticate(engine, token), **options)
