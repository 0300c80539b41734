"""/v2 account and account configurations (Alpaca-compatible).

``GET /v2/account`` shows the kernel's figures in Alpaca's shape (docs/alpaca.md, "Endpoints"):
``equity == portfolio_value == cash + long_market_value + short_market_value``, buying power as
the order engine counts it (available capital × leverage), ``initial_margin`` the margin the
positions tie up. propdesk has one margin figure, so ``maintenance_margin`` and
``last_maintenance_margin`` repeat it; it has no pattern-day-trader rule, transfers, SMA or
regulatory fees, so those are zero or false. Account statuses map onto alpaca-py's enum.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Annotated, Any

from fastapi import Depends

from propdesk.accounting.state import AccountStatus
from propdesk.api.alpaca.auth import authenticated
from propdesk.api.alpaca.errors import ERROR_RESPONSES
from propdesk.api.alpaca.requests import ConfigurationIn
from propdesk.api.alpaca.wire import dec, ts
from propdesk.api.auth import context
from propdesk.api.routing import api_router
from propdesk.model.ids import AccountId
from propdesk.model.instruments import AssetClass
from propdesk.model.orders import Direction
from propdesk.services.access.api_keys import KeyPrincipal
from propdesk.services.alpaca import trading_account
from propdesk.services.alpaca.trading_account import Configuration, TradingAccount
from propdesk.services.context import ServiceContext

router = api_router(prefix="/v2", tags=["alpaca"], responses=ERROR_RESPONSES)
Ctx = Annotated[ServiceContext, Depends(context)]
Caller = Annotated[KeyPrincipal, Depends(authenticated)]

# Alpaca's AccountStatus for each of ours; paused and locked accounts stay ACTIVE with
# ``trading_blocked`` (alpaca-py refuses any status outside its enum).
_STATUS = {
    AccountStatus.PENDING: "ONBOARDING",
    AccountStatus.ACTIVE: "ACTIVE",
    AccountStatus.PAUSED: "ACTIVE",
    AccountStatus.LOCKED: "ACTIVE",
    AccountStatus.COMPLETED: "ACCOUNT_CLOSED",
    AccountStatus.LIQUIDATED: "ACCOUNT_CLOSED",
}


def account_number(account_id: AccountId) -> str:
    """``PA`` and ten upper-case characters derived from the id: stable, and shaped like Alpaca's
    paper account numbers (``PA…``), which some bots log or check."""
    digest = hashlib.sha256(account_id.encode()).digest()
    return "PA" + base64.b32encode(digest).decode()[:10]


def account_json(view: TradingAccount) -> dict[str, Any]:
    state, policy, config = view.state, view.policy, view.configuration
    status = _STATUS[state.status]
    closed = state.status.is_terminal
    blocked = state.status is not AccountStatus.ACTIVE
    buying_power = dec(state.buying_power)
    unleveraged = dec(view.unleveraged_buying_power)
    margin = dec(state.margin_used)
    long_value, short_value = view.long_market_value, view.short_market_value
    crypto = AssetClass.CRYPTO in policy.allowed_asset_classes
    return {
        "id": view.account.id,
        "account_number": account_number(AccountId(view.account.id)),
        "status": status,
        "crypto_status": status if crypto else "INACTIVE",
        "currency": state.currency,
        "cash": dec(state.cash),
        "buying_power": buying_power,
        "regt_buying_power": buying_power,
        "effective_buying_power": buying_power,
        "daytrading_buying_power": "0",
        "bod_dtbp": "0",
        "non_marginable_buying_power": unleveraged,
        "options_buying_power": unleveraged,
        "accrued_fees": "0",
        "pending_transfer_in": "0",
        "pending_transfer_out": "0",
        "portfolio_value": dec(state.equity),
        "equity": dec(state.equity),
        "last_equity": dec(state.day_start_equity),
        "long_market_value": dec(long_value),
        "short_market_value": dec(short_value),
        "position_market_value": dec(long_value + short_value),
        "initial_margin": margin,
        "maintenance_margin": margin,
        "last_maintenance_margin": margin,
        "sma": "0",
        "multiplier": dec(state.leverage),
        "shorting_enabled": Direction.SHORT in policy.allowed_directions and not config.no_shorting,
        "pattern_day_trader": False,
        "daytrade_count": 0,
        "trading_blocked": blocked,
        "transfers_blocked": closed,
        "account_blocked": closed or state.status is AccountStatus.LOCKED,
        "trade_suspended_by_user": config.suspend_trade,
        "created_at": ts(view.account.created_at),
        "balance_asof": view.as_of.isoformat(),
        "options_approved_level": trading_account.options_approved_level(policy),
        "options_trading_level": view.options_trading_level,
        "intraday_adjustments": "0",
        "pending_reg_taf_fees": "0",
    }


def configuration_json(config: Configuration) -> dict[str, Any]:
    return {
        "dtbp_check": config.dtbp_check.value,
        "fractional_trading": config.fractional_trading,
        "max_margin_multiplier": dec(config.max_margin_multiplier),
        "no_shorting": config.no_shorting,
        "pdt_check": config.pdt_check.value,
        "suspend_trade": config.suspend_trade,
        "trade_confirm_email": config.trade_confirm_email.value,
        "ptp_no_exception_entry": config.ptp_no_exception_entry,
        "max_options_trading_level": config.max_options_trading_level,
    }


@router.get("/account", summary="The account of the key pair")
def get_account(ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return account_json(trading_account.trading_account(ctx, caller.account_id))


@router.get("/account/configurations", summary="The account's configurations")
def get_configurations(ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return configuration_json(trading_account.configuration(ctx, caller.account_id))


@router.patch("/account/configurations", summary="Change the account's configurations")
def set_configurations(body: ConfigurationIn, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    """Change some switches (null or absent keeps a value); returns them all. ``suspend_trade``
    refuses new orders, ``no_shorting`` sells that would open a short, ``fractional_trading``
    false fractional and notional orders; ``max_margin_multiplier`` is the policy's leverage."""
    return configuration_json(trading_account.configure(ctx, caller.account_id, body.change()))
