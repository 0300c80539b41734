"""The balances projection: an account's scalar figures, stored with the derived ones for readers."""

from __future__ import annotations

from typing import Any

from propdesk.accounting.state import AccountState


def balance_values(state: AccountState) -> dict[str, Any]:
    """The balances row of ``state``: its scalars and the derived figures stored for readers."""
    return {
        "currency": state.currency,
        "starting_cash": state.starting_cash,
        "cash": state.cash,
        "equity": state.equity,
        "realized_pnl": state.realized_pnl,
        "unrealized_pnl": state.unrealized_pnl,
        "fees": state.fees,
        "adjustments": state.adjustments,
        "high_watermark": state.high_watermark,
        "day_start_equity": state.day_start_equity,
        "day_start_balance": state.day_start_balance,
        "trading_day": state.trading_day,
        "reserved_for_orders": state.reserved_for_orders,
        "margin_used": state.margin_used,
        "leverage": state.leverage,
        "seq": state.seq,
        "updated_at": state.updated_at,
    }


# Balance columns that are derived from the state rather than part of it.
DERIVED_BALANCE_FIGURES = ("equity", "unrealized_pnl", "reserved_for_orders", "margin_used")
