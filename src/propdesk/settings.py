"""Runtime settings from the environment (prefix ``PROPDESK_``) or a ``.env`` file.

Nothing reads the environment at import time: call :func:`load_settings` in an entry point and
pass the result down.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///propdesk.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROPDESK_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://… in production",
    )
    database_echo: bool = False

    # Kill switches: refuse every intake, or only what adds exposure (reducing stays allowed).
    trading_disabled: bool = False
    new_orders_disabled: bool = False
    # The user-facing paper-trading surfaces (seed 003's FLAG_PAPER_TRADING_V1): off answers every
    # /v2 request 403, refuses /stream authentication and the creation and reset of paper accounts;
    # prop and AI accounts on /api/v1 are not touched.
    paper_trading: bool = True

    # Mark-to-market: sweep cadence, and how often a sweep may write a ledger row per account.
    mtm_interval_seconds: float = Field(default=60, gt=0)
    mtm_ledger_interval_seconds: int = Field(default=300, ge=0)
    mtm_ledger_equity_move: str = Field(
        default="0.005", description="fraction of equity that forces a mark row before the interval"
    )

    # Resting orders: how often the evaluator runs, which stored bars it reads besides quotes, and
    # how many market events in one run make it tell the account that fills may have been delayed.
    orders_interval_seconds: float = Field(default=1, gt=0)
    orders_bar_timeframe: str = "1Min"
    orders_catch_up_notice: int = Field(default=100, ge=1)

    # Daily jobs (``propdesk jobs``): the schedule runs inside ``propdesk serve`` unless ``off``
    # (run it with ``propdesk beat`` and ``propdesk worker`` instead); how often the embedded
    # scheduler looks for due jobs; how many past sessions a start catches up at most; accounts per
    # chunk of a fanned-out run; an optional pause between the accounts of a chunk (throttling);
    # and after how long Redis hands an unacknowledged task (its worker died) to another worker.
    scheduler: Literal["embedded", "off"] = "embedded"
    scheduler_poll_seconds: float = Field(default=30, gt=0)
    jobs_catch_up_sessions: int = Field(default=5, ge=0)
    jobs_chunk_size: int = Field(default=200, ge=1)
    jobs_account_pause_seconds: float = Field(default=0, ge=0)
    celery_visibility_timeout_seconds: int = Field(default=3600, ge=1)

    # The largest starting cash (and any balance a caller sets: account creation, resets); 422 above.
    max_starting_cash: Decimal = Field(default=Decimal(10_000_000), gt=0, allow_inf_nan=False)

    # Requests whose body is larger than this answer 413 before the rest of the body is read.
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    # Serve the interactive API docs (/docs, /redoc) and the schema (/openapi.json).
    docs: bool = True

    # The Alpaca-compatible trading API (/v2): requests per minute per key, as Alpaca's 200.
    trading_api_rate_limit: int = Field(default=200, ge=1)
    # The service and admin API (/api/v1): requests per minute per bearer token.
    service_api_rate_limit: int = Field(default=6000, ge=1)
    # Failed authentications per minute from one client address (both APIs and /stream) before 429.
    auth_failure_limit: int = Field(default=20, ge=1)
    # How often each server process re-reads the revocation version (seconds): a revoked key or
    # token is refused, and its open /stream closed, within about this long.
    auth_version_interval_seconds: float = Field(default=0.25, gt=0, le=1)
    # Redis for the rate-limit counters shared by all server processes (redis://host:6379/0);
    # without it they are kept in the database.
    redis_url: str | None = None
    # Deterministic pd-fill-/pd-reject- client order ids (for testing bots outside market hours);
    # a competition turns them off so that every result comes from real fills.
    forced_outcomes: bool = True

    # Market data (Alpaca Data API v2). The keys also come from Alpaca's own variable names; they
    # are SecretStr so they never show in a repr, a log line or an error message.
    alpaca_api_key_id: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("alpaca_api_key_id", "PROPDESK_ALPACA_API_KEY_ID", "APCA_API_KEY_ID"),
    )
    alpaca_api_secret_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "alpaca_api_secret_key", "PROPDESK_ALPACA_API_SECRET_KEY", "APCA_API_SECRET_KEY"
        ),
    )
    alpaca_data_url: str = "https://data.alpaca.markets"
    alpaca_data_feed: str = Field(default="iex", description="stock feed: iex (free), sip, delayed_sip")


def load_settings() -> Settings:
    return Settings()
