"""Execution policy: the limits an account trades under, snapshotted onto the account at creation.

The defaults are the seed "audition" account: 100,000 USDC, 5x leverage, 50,000 per-order
notional, 5 open positions, 10 open orders, long and short, 10 bps fees and ``mid`` fills,
auto-liquidation at a 50% drawdown from the starting balance.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from propdesk.model.instruments import AssetClass
from propdesk.model.numbers import to_decimal
from propdesk.model.orders import Direction


class FillModelName(StrEnum):
    MID = "mid"
    NBBO = "nbbo"
    BPS_SLIPPAGE = "bps_slippage"
    VOLUME_SHARE = "volume_share"
    ALPACA_PARITY = "alpaca_parity"


class ExecutionPolicy(BaseModel):
    """Immutable account policy; every money field is an exact ``Decimal`` (floats are refused)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    starting_balance: Decimal = Field(default=Decimal(100_000), gt=0)
    currency: str = Field(default="USDC", min_length=1, max_length=16, pattern=r"^[A-Z0-9]+$")
    max_leverage: Decimal = Field(default=Decimal(5), gt=0)
    max_order_notional: Decimal = Field(default=Decimal(50_000), gt=0)
    max_position_equity_ratio: Decimal = Field(default=Decimal(1), gt=0)
    max_open_positions: int = Field(default=5, ge=0)
    max_open_orders: int = Field(default=10, ge=0)
    allowed_directions: frozenset[Direction] = frozenset({Direction.LONG, Direction.SHORT})
    allowed_asset_classes: frozenset[AssetClass] = frozenset(AssetClass)
    allowed_symbols: frozenset[str] | None = None
    fee_bps: Decimal = Field(default=Decimal(10), ge=0)
    fee_per_contract: Decimal | None = Field(default=None, ge=0)
    fill_model: FillModelName = FillModelName.MID
    slippage_bps: Decimal = Field(default=Decimal(0), ge=0, le=1000)
    max_quote_age_seconds: int = Field(default=60, gt=0)
    liquidation_drawdown: Decimal = Field(default=Decimal("0.5"), gt=0, le=1)
    manual_approval: bool = False
    # volume_share: the share of a bar's volume (or the displayed size) one evaluation may take,
    # and the price impact in bps of taking all of it; alpaca_parity: how often a fill is partial.
    participation_rate: Decimal = Field(default=Decimal("0.1"), gt=0, le=1)
    impact_bps: Decimal = Field(default=Decimal(10), ge=0, le=1000)
    partial_fill_probability: Decimal = Field(default=Decimal("0.1"), ge=0, le=1)
    # Short selling needs SHORT in allowed_directions; hard-to-borrow names need this as well.
    allow_hard_to_borrow: bool = False

    @field_validator(
        "starting_balance",
        "max_leverage",
        "max_order_notional",
        "max_position_equity_ratio",
        "fee_bps",
        "fee_per_contract",
        "slippage_bps",
        "liquidation_drawdown",
        "participation_rate",
        "impact_bps",
        "partial_fill_probability",
        mode="before",
    )
    @classmethod
    def _exact(cls, value: Any, info: Any) -> Any:
        return None if value is None else to_decimal(value, field=info.field_name)

    @property
    def liquidation_equity(self) -> Decimal:
        """Equity at or below which the account is liquidated."""
        return self.starting_balance * (1 - self.liquidation_drawdown)


PRESETS: dict[str, ExecutionPolicy] = {
    "audition": ExecutionPolicy(),
    # An Alpaca-style paper account: $100,000 in USD, Reg T 2x margin, no commission, fills at the
    # NBBO far side, no per-order notional cap beyond buying power, liquidation only at zero equity.
    "paper": ExecutionPolicy(
        currency="USD",
        max_leverage=Decimal(2),
        max_order_notional=Decimal(1_000_000_000),
        max_position_equity_ratio=Decimal(2),
        max_open_positions=1000,
        max_open_orders=1000,
        fee_bps=Decimal(0),
        fill_model=FillModelName.NBBO,
        liquidation_drawdown=Decimal(1),
    ),
}


def preset(name: str, /, **overrides: Any) -> ExecutionPolicy:
    """A named preset with field overrides, validated as a whole."""
    try:
        base = PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown policy preset {name!r}; known: {', '.join(PRESETS)}") from None
    return ExecutionPolicy.model_validate({**base.model_dump(), **overrides})
