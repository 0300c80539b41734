"""Observations of an account for its rule state, and open contracts counted as a pack counts them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from propdesk.accounting.events import FillApplied
from propdesk.accounting.positions import Position
from propdesk.accounting.state import AccountState
from propdesk.model.instruments import FUTURE_ROOTS, AssetClass, InvalidSymbolError, future
from propdesk.model.numbers import ONE, ZERO
from propdesk.risk.rules.pack import RulePack
from propdesk.risk.rules.state import FillFact, Observation


def _lot_weight(symbol: str, asset_class: AssetClass, micro_ratio: Decimal) -> Decimal:
    if asset_class is not AssetClass.FUTURE:
        return ONE
    try:
        root = future(symbol).root
    except InvalidSymbolError:
        root = FUTURE_ROOTS.get(symbol)
    return ONE / micro_ratio if root is not None and root.micro_of is not None else ONE


def lots_of(symbol: str, asset_class: AssetClass, qty: Decimal, micro_ratio: Decimal) -> Decimal:
    """Contracts counted against a position limit: a micro is ``1 / micro_ratio`` of a contract."""
    return abs(qty) * _lot_weight(symbol, asset_class, micro_ratio)


def open_lots(positions: Mapping[str, Position], micro_ratio: Decimal = ONE) -> Decimal:
    """Total open contracts across positions (gross), micros weighted by ``micro_ratio``."""
    return sum(
        (
            lots_of(p.instrument.symbol, p.instrument.asset_class, p.qty, micro_ratio)
            for p in positions.values()
        ),
        ZERO,
    )


def micro_ratio_of(pack: RulePack) -> Decimal:
    return pack.position_limits.micro_ratio if pack.position_limits is not None else ONE


def observation_from_account(
    pack: RulePack,
    account: AccountState,
    at: datetime,
    *,
    fill_event: FillApplied | None = None,
) -> Observation:
    """The observation of ``account`` right after ``fill_event`` (or a mark) at ``at``."""
    fact = None
    if fill_event is not None:
        fill = fill_event.fill
        after = fill_event.position_qty_after
        fact = FillFact(
            symbol=fill.symbol,
            realized_pnl=fill_event.realized_pnl,
            fee=fill.fee,
            qty_before=after - fill.signed_qty,
            qty_after=after,
        )
    return Observation(
        at=at,
        equity=account.equity,
        balance=account.balance,
        open_lots=open_lots(account.positions, micro_ratio_of(pack)),
        has_positions=bool(account.positions),
        fill=fact,
        high_watermark=account.high_watermark,
    )
