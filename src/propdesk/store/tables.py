# Over ~500 lines on purpose: the whole schema in one module is what the migrations are checked against.
"""The schema as SQLAlchemy Core tables: the ledger, its projections and the records around them.

This metadata is what the Alembic environment compares against; the migrations in
``store/migrations/versions`` are written by hand and a test checks that they build exactly
this schema. Every money, price and quantity column is :class:`ExactDecimal`, every timestamp
:class:`UtcDateTime`. Constraint names follow ``NAMING_CONVENTION`` so that later migrations
can refer to them on every backend.

``ledger_events`` is append-only; the initial migration installs triggers that refuse UPDATE
and DELETE on it, so corrections can only be new events.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from propdesk.store.types import ExactDecimal, UtcDateTime

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias), not BIGINT.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

ACCOUNT_STATUSES = ("pending", "active", "paused", "locked", "completed", "liquidated")
RESERVATION_STATUSES = ("open", "released")
POSITION_SIDES = ("long", "short")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=True, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    # Revision 0019: free | pro | pro_plus (the retention job's horizon); pro_plus keeps everything.
    sa.Column("retention_tier", sa.String(16), nullable=False, server_default="pro_plus"),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner_user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=True, index=True),
    sa.Column("clone_id", sa.String(64), nullable=True, index=True),
    sa.Column("parent_account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=True),
    sa.Column("mode", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("currency", sa.String(16), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True),
    sa.Column("policy", Json, nullable=False),
    sa.Column("starting_balance", ExactDecimal(), nullable=False),
    # Seq of the last ledger event; the next event gets last_seq + 1 (gapless per account).
    sa.Column("last_seq", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # The rule pack snapshotted at creation (revision 0004): immutable, like the policy.
    sa.Column("rule_pack", Json, nullable=True),
    sa.Column("rule_pack_key", sa.String(120), nullable=True),
    sa.Column("rule_pack_fingerprint", sa.String(64), nullable=True),
    # A prop evaluation's outcome once decided: passed or failed.
    sa.Column("outcome", sa.String(16), nullable=True),
    # The bearer token that created the account over the API (revision 0010): a service token sees
    # the accounts it owns plus those granted to it (``token_grants``). No foreign key, so that
    # SQLite adds the column without rebuilding the table.
    sa.Column("owner_token_id", sa.String(32), nullable=True, index=True),
    sa.CheckConstraint(_in("status", ACCOUNT_STATUSES), name="status"),
    sa.CheckConstraint("last_seq >= 0", name="last_seq"),
)

# One row per account: the kernel state's scalars, plus derived figures (equity, unrealized PnL,
# reserved, margin) stored for reading without a fold; recompute checks those too.
balances = sa.Table(
    "balances",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    # currency and starting_cash are the kernel's (set by AccountStarted), not the policy's.
    sa.Column("currency", sa.String(16), nullable=False),
    sa.Column("starting_cash", ExactDecimal(), nullable=False),
    sa.Column("cash", ExactDecimal(), nullable=False),
    sa.Column("equity", ExactDecimal(), nullable=False),
    sa.Column("realized_pnl", ExactDecimal(), nullable=False),
    sa.Column("unrealized_pnl", ExactDecimal(), nullable=False),
    sa.Column("fees", ExactDecimal(), nullable=False),
    sa.Column("adjustments", ExactDecimal(), nullable=False),
    sa.Column("high_watermark", ExactDecimal(), nullable=False),
    sa.Column("day_start_equity", ExactDecimal(), nullable=False),
    sa.Column("day_start_balance", ExactDecimal(), nullable=False),
    sa.Column("trading_day", sa.Date(), nullable=True),
    sa.Column("reserved_for_orders", ExactDecimal(), nullable=False),
    sa.Column("margin_used", ExactDecimal(), nullable=False),
    sa.Column("leverage", ExactDecimal(), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=True),
)

positions = sa.Table(
    "positions",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("symbol", sa.String(64), primary_key=True),
    sa.Column("asset_class", sa.String(16), nullable=False),
    sa.Column("multiplier", ExactDecimal(), nullable=False),
    sa.Column("qty", ExactDecimal(), nullable=False),
    sa.Column("cost", ExactDecimal(), nullable=False),
    sa.Column("mark", ExactDecimal(), nullable=False),
    sa.Column("opened_at", UtcDateTime(), nullable=False),
)

# One row per position's life, from the fill that opened it to the fill (or reset) that ended it;
# ``closed_at`` is NULL while it is open. Open positions are read from ``positions`` alone, so
# this table is written with every fill but never read on that path. The entry and exit figures
# are unsigned sums (quantity, and quantity x price x multiplier), whose quotients are the
# average prices; fees and realized PnL are those of the position's fills.
position_history = sa.Table(
    "position_history",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("symbol", sa.String(64), nullable=False),
    sa.Column("asset_class", sa.String(16), nullable=False),
    sa.Column("multiplier", ExactDecimal(), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("max_qty", ExactDecimal(), nullable=False),
    sa.Column("entry_qty", ExactDecimal(), nullable=False),
    sa.Column("entry_value", ExactDecimal(), nullable=False),
    sa.Column("exit_qty", ExactDecimal(), nullable=False),
    sa.Column("exit_value", ExactDecimal(), nullable=False),
    sa.Column("realized_pnl", ExactDecimal(), nullable=False),
    sa.Column("fees", ExactDecimal(), nullable=False),
    sa.Column("opened_at", UtcDateTime(), nullable=False),
    sa.Column("closed_at", UtcDateTime(), nullable=True),
    sa.Column("closed_by", sa.String(16), nullable=True),
    sa.CheckConstraint(_in("side", POSITION_SIDES), name="side"),
    sa.Index(None, "account_id", "symbol", "closed_at"),
    sa.Index(None, "account_id", "closed_at"),
)

# order_id is not a foreign key: a reservation is taken before (or without) an orders row.
reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("order_id", sa.String(64), primary_key=True),
    sa.Column("amount", ExactDecimal(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("resolved_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint(_in("status", RESERVATION_STATUSES), name="status"),
    sa.CheckConstraint(
        "(status = 'open' AND resolved_at IS NULL) OR (status = 'released' AND resolved_at IS NOT NULL)",
        name="resolved",
    ),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("client_order_id", sa.String(128), nullable=True),
    sa.Column("symbol", sa.String(64), nullable=False),
    sa.Column("asset_class", sa.String(16), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("time_in_force", sa.String(8), nullable=False),
    sa.Column("qty", ExactDecimal(), nullable=True),
    sa.Column("notional", ExactDecimal(), nullable=True),
    sa.Column("limit_price", ExactDecimal(), nullable=True),
    sa.Column("stop_price", ExactDecimal(), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("filled_qty", ExactDecimal(), nullable=False),
    sa.Column("filled_avg_price", ExactDecimal(), nullable=True),
    sa.Column("reserved_amount", ExactDecimal(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("payload", Json, nullable=False),
    # The order engine's columns (revision 0005).
    sa.Column("order_class", sa.String(16), nullable=False, server_default="simple"),
    sa.Column("trail_price", ExactDecimal(), nullable=True),
    sa.Column("trail_percent", ExactDecimal(), nullable=True),
    sa.Column("watermark", ExactDecimal(), nullable=True),
    sa.Column("triggered", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("filled_value", ExactDecimal(), nullable=False, server_default="0"),
    sa.Column("active_from", UtcDateTime(), nullable=True),
    sa.Column("expires_at", UtcDateTime(), nullable=True),
    sa.Column("parent_id", sa.String(64), nullable=True),
    sa.Column("leg_role", sa.String(16), nullable=True),
    sa.Column("ratio_qty", sa.Integer(), nullable=True),
    sa.Column("replaces", sa.String(64), nullable=True),
    sa.Column("replaced_by", sa.String(64), nullable=True),
    sa.Column("filled_at", UtcDateTime(), nullable=True),
    sa.Column("canceled_at", UtcDateTime(), nullable=True),
    sa.Column("expired_at", UtcDateTime(), nullable=True),
    sa.Column("replaced_at", UtcDateTime(), nullable=True),
    sa.Column("failed_at", UtcDateTime(), nullable=True),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("evaluations", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("extended_hours", sa.Boolean(), nullable=False, server_default=sa.false()),
    # An admin void reversed the order's fills; the order keeps its status for the record.
    sa.Column("voided_at", UtcDateTime(), nullable=True),
    # NULL client ids are distinct on both backends, so only given ids must be unique.
    sa.UniqueConstraint("account_id", "client_order_id"),
    sa.Index(None, "account_id", "status"),
    sa.Index(None, "status", "symbol"),
    sa.Index(None, "parent_id"),
)

# Every change of an order that a client is told about (Alpaca ``trade_updates``), in order:
# the stream replays from here and account activities read fills from it (revision 0005).
order_updates = sa.Table(
    "order_updates",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("order_id", sa.String(64), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("fill_id", sa.String(64), nullable=True),
    sa.Column("qty", ExactDecimal(), nullable=True),
    sa.Column("price", ExactDecimal(), nullable=True),
    sa.Column("position_qty", ExactDecimal(), nullable=True),
    sa.Column("order", Json, nullable=False),
    sa.Index(None, "account_id", "id"),
)

# How far the resting-order evaluator has processed each account's market events, and how many
# it processed in its last run (a large number after downtime means fills may have been delayed).
order_evaluations = sa.Table(
    "order_evaluations",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("evaluated_through", UtcDateTime(), nullable=False),
    sa.Column("last_run_at", UtcDateTime(), nullable=False),
    sa.Column("last_run_ticks", sa.Integer(), nullable=False),
    sa.Column("total_ticks", sa.BigInteger(), nullable=False),
    # Revision 0008: the time of each symbol's latest quote as the last run saw it, so that a
    # quote stored after the run had passed its time (late data) is fed once, on the next run.
    sa.Column("latest_quotes", Json, nullable=True),
)

# Per-asset trading flags (Alpaca's asset fields); a symbol without a row gets the defaults
# (tradable, shortable, easy to borrow, fractionable).
assets = sa.Table(
    "assets",
    metadata,
    sa.Column("symbol", sa.String(64), primary_key=True),
    sa.Column("asset_class", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("exchange", sa.String(32), nullable=False, server_default=""),
    sa.Column("tradable", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("shortable", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("easy_to_borrow", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("fractionable", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("marginable", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

fills = sa.Table(
    "fills",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("order_id", sa.String(64), nullable=True),
    sa.Column("symbol", sa.String(64), nullable=False),
    sa.Column("asset_class", sa.String(16), nullable=False),
    sa.Column("multiplier", ExactDecimal(), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("qty", ExactDecimal(), nullable=False),
    sa.Column("price", ExactDecimal(), nullable=False),
    sa.Column("fee", ExactDecimal(), nullable=False),
    sa.Column("bid", ExactDecimal(), nullable=True),
    sa.Column("ask", ExactDecimal(), nullable=True),
    sa.Column("mark", ExactDecimal(), nullable=True),
    sa.Column("slippage", ExactDecimal(), nullable=False),
    sa.Column("liquidity", sa.String(16), nullable=False),
    sa.Column("time", UtcDateTime(), nullable=False),
    sa.Column("voided_at", UtcDateTime(), nullable=True),
    sa.Index(None, "account_id", "time"),
    sa.Index(None, "order_id"),
)

decision_actions = sa.Table(
    "decision_actions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("decision_run_id", sa.String(128), nullable=False),
    sa.Column("decision_action_id", sa.String(128), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("symbol", sa.String(64), nullable=True),
    sa.Column("payload", Json, nullable=False),
    sa.Column("payload_hash", sa.String(128), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("gate_results", Json, nullable=True),
    sa.Column("order_id", sa.String(64), nullable=True),
    sa.Column("fill_id", sa.String(64), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=True),
    sa.Column("review", Json, nullable=True),
    # Spelled out: the conventional name would pass PostgreSQL's 63-character identifier limit.
    sa.UniqueConstraint(
        "account_id", "decision_run_id", "decision_action_id", name="uq_decision_actions_run_action"
    ),
)

ledger_events = sa.Table(
    "ledger_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("cash_delta", ExactDecimal(), nullable=False),
    sa.Column("cash_after", ExactDecimal(), nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("correlation_id", sa.String(128), nullable=True),
    sa.Column("causation_id", sa.String(128), nullable=True),
    sa.Column("recorded_at", UtcDateTime(), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")),
    sa.UniqueConstraint("account_id", "seq"),
    sa.CheckConstraint("seq > 0", name="seq"),
    sa.Index(None, "correlation_id"),
    sa.Index(None, "account_id", "at"),
)

admin_audit_log = sa.Table(
    "admin_audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=True, index=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("before", Json, nullable=True),
    sa.Column("after", Json, nullable=True),
    sa.Column("at", UtcDateTime(), nullable=False),
)

# The primary key (symbol, time) is also the index that finds the latest quote of a symbol:
# both backends scan it backwards for ORDER BY time DESC LIMIT 1, so no second index is kept.
quotes = sa.Table(
    "quotes",
    metadata,
    sa.Column("symbol", sa.String(64), primary_key=True),
    sa.Column("time", UtcDateTime(), primary_key=True),
    sa.Column("bid", ExactDecimal(), nullable=False),
    sa.Column("ask", ExactDecimal(), nullable=False),
    sa.Column("last", ExactDecimal(), nullable=True),
    sa.Column("bid_size", ExactDecimal(), nullable=False),
    sa.Column("ask_size", ExactDecimal(), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
)

bars = sa.Table(
    "bars",
    metadata,
    sa.Column("symbol", sa.String(64), primary_key=True),
    sa.Column("timeframe", sa.String(16), primary_key=True),
    sa.Column("start", UtcDateTime(), primary_key=True),
    sa.Column("open", ExactDecimal(), nullable=False),
    sa.Column("high", ExactDecimal(), nullable=False),
    sa.Column("low", ExactDecimal(), nullable=False),
    sa.Column("close", ExactDecimal(), nullable=False),
    sa.Column("volume", ExactDecimal(), nullable=False),
    sa.Column("vwap", ExactDecimal(), nullable=True),
    sa.Column("trade_count", sa.Integer(), nullable=True),
)

API_TOKEN_ROLES = ("service", "admin")

# Bearer tokens: only a SHA-256 of the secret is kept; the id is the public half of the token.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint(_in("role", API_TOKEN_ROLES), name="role"),
)

# Accounts a service token may use besides those it created (revision 0010), from
# ``propdesk token create --account ID``.
token_grants = sa.Table(
    "token_grants",
    metadata,
    sa.Column("token_id", sa.String(32), sa.ForeignKey("api_tokens.id"), primary_key=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True, index=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

# Alpaca-style key pairs (revision 0006): each belongs to one account; only a SHA-256 of the secret
# is kept, the key id is the public half sent as APCA-API-KEY-ID. A reset keeps the keys.
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
)

# Revocation and rate limits (revision 0011). ``auth_version`` has one row (id 1) whose version is
# bumped in every transaction that revokes a key pair or a token: each server process re-reads it
# a few times a second and drops its cache of valid credentials when it changed. A missing row
# reads as version 0 (the first bump inserts it).
auth_version = sa.Table(
    "auth_version",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger(), nullable=False),
)

# Request counts shared by every server process when no Redis is configured: one row per key
# (``v2:<key id>``, ``api:<token id>``, ``auth_failures:<address>`` …) and fixed window, counted
# with one atomic upsert; windows older than the previous one are pruned.
rate_limit_windows = sa.Table(
    "rate_limit_windows",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("window_start", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("hits", sa.Integer(), nullable=False),
    sa.Index(None, "window_start"),
)

# Alpaca account configurations (revision 0007), one row per account once its owner changes one;
# an account without a row has the defaults (services.trading_account). A reset keeps them.
account_configurations = sa.Table(
    "account_configurations",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("fractional_trading", sa.Boolean(), nullable=False),
    sa.Column("no_shorting", sa.Boolean(), nullable=False),
    sa.Column("suspend_trade", sa.Boolean(), nullable=False),
    sa.Column("ptp_no_exception_entry", sa.Boolean(), nullable=False),
    sa.Column("dtbp_check", sa.String(8), nullable=False),
    sa.Column("pdt_check", sa.String(8), nullable=False),
    sa.Column("trade_confirm_email", sa.String(8), nullable=False),
    sa.Column("max_options_trading_level", sa.Integer(), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# One row per background worker (e.g. "mark_to_market"), upserted on every sweep.
worker_heartbeats = sa.Table(
    "worker_heartbeats",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("beat_at", UtcDateTime(), nullable=False),
    sa.Column("details", Json, nullable=False),
)

# The rule state of an account with a rule pack (revision 0004): a projection written in the same
# transaction as the fill or mark it folds; ``locked_until`` is the end of a day lock, for readers.
rule_states = sa.Table(
    "rule_states",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("payload", Json, nullable=False),
    sa.Column("locked_until", UtcDateTime(), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# --- market data (revision 0002) ------------------------------------------------------------------

# Who was given which market data, when and from where: exchange data licences are per user, so
# every fetch made on behalf of a user leaves one row per symbol delivered. Purged after 13 months
# (jobs/retention.py). No foreign key to users: the record must outlive the user row and must
# never make a fetch fail. ``at`` is indexed for the purge, (user_id, at) for a user's report.
market_data_access_log = sa.Table(
    "market_data_access_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("symbol", sa.String(64), nullable=False),
    sa.Column("data_type", sa.String(32), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Index(None, "at"),
    sa.Index(None, "user_id", "at"),
)

# Symbols an account wants quoted although it holds no position in them; the ingestion job polls
# the union of these and the positions of active accounts.
watchlist = sa.Table(
    "watchlist",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("symbol", sa.String(64), primary_key=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

# Alpaca watchlists (revision 0009): named, ordered symbol lists of one account, served on
# /v2/watchlists. Unrelated to ``watchlist`` above (what ingestion polls). ``symbols`` is a JSON
# list of propdesk symbols in the owner's order; names are unique per account.
alpaca_watchlists = sa.Table(
    "alpaca_watchlists",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("symbols", Json, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("account_id", "name"),
)

# --- daily jobs (revisions 0015 and 0016) ----------------------------------------------------------

JOB_RUN_STATUSES = ("running", "completed", "failed")
JOB_CLAIM_STATUSES = ("pending", "done")

# End-of-day snapshots (revision 0015): one row per account per trading day, written once by the
# ``eod-snapshot`` job (INSERT … ON CONFLICT DO NOTHING, so a rerun adds nothing). ``positions`` is
# a JSON object symbol -> {qty, avgPrice, mark, marketValue, unrealizedPnl} (decimals as strings);
# ``rules`` a summary of the rule state (NULL for an account without a rule pack).
account_snapshots = sa.Table(
    "account_snapshots",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("trading_date", sa.Date(), primary_key=True),
    sa.Column("as_of", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("equity", ExactDecimal(), nullable=False),
    sa.Column("cash", ExactDecimal(), nullable=False),
    sa.Column("realized_pnl", ExactDecimal(), nullable=False),
    sa.Column("unrealized_pnl", ExactDecimal(), nullable=False),
    sa.Column("positions", Json, nullable=False),
    sa.Column("rules", Json, nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index(None, "trading_date"),
)

# One row per daily job and trading date (revision 0016): what ran, when, and what it did.
job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("job", sa.String(64), primary_key=True),
    sa.Column("trading_date", sa.Date(), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("result", Json, nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.CheckConstraint(_in("status", JOB_RUN_STATUSES), name="status"),
)

# Per-account claims of a fanned-out run (revision 0016): a worker takes a pending row with
# ``FOR UPDATE SKIP LOCKED`` and marks it done in the transaction that does the account's work, so
# a worker killed mid-account leaves it pending and nothing is done twice. No foreign key to
# accounts: claims are bookkeeping and must never block erasing an account.
job_claims = sa.Table(
    "job_claims",
    metadata,
    sa.Column("job", sa.String(64), primary_key=True),
    sa.Column("trading_date", sa.Date(), primary_key=True),
    sa.Column("account_id", sa.String(64), primary_key=True),
    sa.Column("chunk", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("done_by", sa.String(128), nullable=True),
    sa.Column("done_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint(_in("status", JOB_CLAIM_STATUSES), name="status"),
    sa.Index(None, "job", "trading_date", "chunk"),
)

# Leases (revision 0016): the process whose ``holder`` is stored until ``expires_at`` runs the
# schedule; another takes it over only once it has expired.
job_leases = sa.Table(
    "job_leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
)

# Corporate actions (revision 0017): dividends, splits and name changes by ex-date, from a CSV
# import or Alpaca's corporate-actions API. One row per (type, symbol, ex_date), so a re-import
# stores nothing new. A split of ``old_rate`` into ``new_rate`` shares (3-for-1: 1 and 3).
corporate_actions = sa.Table(
    "corporate_actions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("symbol", sa.String(64), nullable=False),
    sa.Column("ex_date", sa.Date(), nullable=False),
    sa.Column("payable_date", sa.Date(), nullable=True),
    sa.Column("cash", ExactDecimal(), nullable=True),
    sa.Column("old_rate", ExactDecimal(), nullable=True),
    sa.Column("new_rate", ExactDecimal(), nullable=True),
    sa.Column("new_symbol", sa.String(64), nullable=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("type IN ('dividend', 'split', 'name_change')", name="type"),
    sa.UniqueConstraint("type", "symbol", "ex_date"),
    sa.Index(None, "ex_date"),
)

# Which corporate action has been applied to which account: the job's idempotency record, written
# in the transaction that applied it (the account's ledger events and orders).
corporate_action_applications = sa.Table(
    "corporate_action_applications",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("action_id", sa.String(64), sa.ForeignKey("corporate_actions.id"), primary_key=True),
    sa.Column("applied_at", UtcDateTime(), nullable=False),
)

# Accounts whose ledger rows may be deleted (revision 0018): written and emptied again inside the
# one transaction that erases a user, so no other transaction ever sees a row here. The ledger's
# triggers refuse every other UPDATE and DELETE. No foreign key: the permit outlives the account
# row for the rest of that transaction.
ledger_erasures = sa.Table(
    "ledger_erasures",
    metadata,
    sa.Column("account_id", sa.String(64), primary_key=True),
)

# Children before parents: the order in which tests empty the tables and downgrades drop them.
TABLES_CHILD_FIRST: tuple[sa.Table, ...] = tuple(reversed(metadata.sorted_tables))
