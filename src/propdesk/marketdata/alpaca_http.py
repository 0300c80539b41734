"""The HTTP contract of the Alpaca Market Data client (:mod:`propdesk.marketdata.alpaca`): its
errors, the key pair, the retry policy and what the rate-limit headers said."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from pydantic import SecretStr


class AlpacaDataError(Exception):
    """A market-data request that did not produce data."""


class AlpacaResponseError(AlpacaDataError):
    """A 200 response whose body is not what the API promises; nothing from it is used."""


class AlpacaHTTPError(AlpacaDataError):
    """An error status from the API (after any retries)."""

    def __init__(self, path: str, status: int, message: str) -> None:
        super().__init__(f"GET {path}: HTTP {status}: {message}")
        self.path = path
        self.status = status
        self.message = message


class AlpacaRateLimitError(AlpacaHTTPError):
    """Still rate limited (429) after every retry."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """What the last response said about the quota."""

    limit: int | None
    remaining: int | None
    reset: datetime | None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries and waits; seconds are plain floats (time, not money)."""

    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_cap: float = 16.0
    max_wait: float = 65.0
    quota_reserve: int = 2

    def backoff(self, attempt: int) -> float:
        return float(min(self.backoff_cap, self.backoff_base * 2**attempt))


@dataclass(frozen=True)
class AlpacaCredentials:
    """The API key pair; ``SecretStr`` keeps both out of reprs and logs."""

    key_id: SecretStr
    secret_key: SecretStr

    def __repr__(self) -> str:
        return "AlpacaCredentials(key_id=**********, secret_key=**********)"


def rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
