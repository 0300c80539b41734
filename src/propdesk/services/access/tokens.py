"""Bearer tokens for the service and admin APIs.

A token is ``pd_<id>_<secret>``. Only the SHA-256 of the secret is stored; the id finds the row
and ``hmac.compare_digest`` compares the hashes in constant time, so neither the database nor
the timing of a failed comparison reveals a usable token. The secret has 256 bits of entropy,
which is why a fast hash (not a password KDF) is enough.

Revoking a token (or an Alpaca key pair) bumps the ``auth_version`` row in the same transaction;
every server process re-reads that version a few times a second (:class:`AuthVersionWatcher`) and
drops its cache of valid credentials when it changed, so a revocation is refused everywhere within
well under a second.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.engine import Engine

from propdesk.services.clock import Clock
from propdesk.services.errors import NotFound
from propdesk.store.tokens import TokenRecord
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


class Secured(Protocol):
    """A stored credential: the digest of its secret and when it was revoked."""

    @property
    def secret_hash(self) -> str: ...

    @property
    def revoked_at(self) -> datetime | None: ...


def opens(record: Secured | None, secret: str) -> bool:
    """Whether ``secret`` opens ``record`` (an unrevoked one). The digest is compared in constant
    time even when no record was found, so an unknown id takes as long as a wrong secret."""
    expected = record.secret_hash if record is not None else digest("")
    valid = hmac.compare_digest(digest(secret), expected)
    return record is not None and valid and record.revoked_at is None


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


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as listed: never its secret or its hash."""

    token_id: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None


def list_tokens(engine: Engine) -> list[TokenInfo]:
    """Every token, oldest first, revoked ones included."""
    with UnitOfWork(engine, read_only=True) as uow:
        return [TokenInfo(r.id, r.name, Role(r.role), r.created_at, r.revoked_at) for r in uow.tokens.all()]


def revoke_token(engine: Engine, token_id: str, *, clock: Clock) -> None:
    """Revoke a token for good; every server process refuses it within a second."""
    with UnitOfWork(engine) as uow:
        if not uow.tokens.revoke(token_id, clock()):
            raise NotFound("token_not_found", f"no active token {token_id}")
        uow.auth_version.bump()
        uow.commit()


def read_auth_version(engine: Engine) -> int:
    with UnitOfWork(engine, read_only=True) as uow:
        return uow.auth_version.read()


class AuthVersionWatcher:
    """This process's view of the revocation version, re-read at most every ``interval`` seconds.

    ``current()`` is cheap: it answers from memory and reads the one-row table only when the last
    read is older than ``interval`` (one thread reads, the others wait for its answer), so a busy
    process costs the database a handful of primary-key reads a second whatever its request rate.
    """

    def __init__(
        self,
        read: Callable[[], int],
        *,
        interval: float = 0.25,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._interval = interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._version = 0
        self._read_at: float | None = None

    @property
    def stale(self) -> bool:
        """Whether the next ``current()`` reads the database."""
        return self._read_at is None or self._monotonic() - self._read_at >= self._interval

    def current(self) -> int:
        if not self.stale:
            return self._version
        with self._lock:
            if self.stale:
                self._version = self._read()
                self._read_at = self._monotonic()
            return self._version


def authenticate(engine: Engine, token: str) -> Principal | None:
    """The principal a bearer token stands for, or None for a malformed, unknown or revoked one."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    token_id, secret = match.groups()
    with UnitOfWork(engine, read_only=True) as uow:
        record = uow.tokens.find(token_id)
    valid = opens(record, secret)  # compared even for an unknown id (constant time)
    if record is None or not valid:
        return None
    return Principal(record.id, record.name, Role(record.role))


P = TypeVar("P")


class CachedAuthenticator(Generic[P]):
    """A credential lookup with a short per-process memory of credentials that were valid.

    Every API call authenticates; remembering a valid credential for ``ttl_seconds`` saves a
    database transaction per request. Only successes are remembered (a wrong credential always
    costs a lookup), keyed by the credential's digest, and a revoked one stops working within
    ``ttl_seconds``. Used for bearer tokens and for Alpaca key pairs.

    With a ``version`` (an :class:`AuthVersionWatcher`'s ``current``), the whole memory is dropped
    whenever the revocation version changes, so a revoked credential stops working as soon as this
    process sees the new version rather than when its entry expires.
    """

    def __init__(
        self,
        lookup: Callable[[str], P | None],
        *,
        ttl_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        version: Callable[[], int] | None = None,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._version = version
        self._seen_version: int | None = None
        self._valid: dict[str, tuple[float, P]] = {}

    def __call__(self, credential: str) -> P | None:
        if self._version is not None:
            version = self._version()
            if version != self._seen_version:
                self._valid = {}
                self._seen_version = version
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
