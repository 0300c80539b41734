"""Fee models: what one fill costs, in the account currency, rounded to whole cents.

Fees are rounded to cents with ROUND_HALF_UP because that is how a broker bills them (a fee
is a cash movement, not a mark), and the ledger must hold the exact amount charged. Fees are never
negative: the notional is taken in absolute value so that a negative futures price cannot produce
a rebate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from propdesk.model.instruments import AssetClass, Instrument
from propdesk.model.numbers import BPS, round_money
from propdesk.model.policy import ExecutionPolicy

# Asset classes traded and billed per contract at real brokers.
CONTRACT_CLASSES = frozenset({AssetClass.FUTURE, AssetClass.US_OPTION})


class FeeModel(Protocol):
    """The fee for a fill of ``qty`` (sign ignored) at ``price``."""

    def fee(self, qty: Decimal, price: Decimal, instrument: Instrument) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class BpsOfNotional:
    """``|notional| × bps / 10,000`` (notional includes the multiplier), rounded half-up to cents."""

    bps: Decimal

    def __post_init__(self) -> None:
        if self.bps < 0:
            raise ValueError(f"fee bps must not be negative, got {self.bps}")

    def fee(self, qty: Decimal, price: Decimal, instrument: Instrument) -> Decimal:
        notional = abs(instrument.notional(qty, price))
        return round_money(notional * self.bps * BPS)


@dataclass(frozen=True, slots=True)
class PerContract:
    """``|qty| × amount`` per contract, rounded half-up to cents (sub-cent rates bill correctly)."""

    amount: Decimal

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError(f"fee per contract must not be negative, got {self.amount}")

    def fee(self, qty: Decimal, price: Decimal, instrument: Instrument) -> Decimal:
        return round_money(abs(qty) * self.amount)


def fee_model_for(policy: ExecutionPolicy, instrument: Instrument) -> FeeModel:
    """Per contract for futures and options when the policy sets ``fee_per_contract``, else bps.

    Equities and crypto are always billed in bps of notional, as a per-contract rate means nothing
    for fractional shares or coins.
    """
    if policy.fee_per_contract is not None and instrument.asset_class in CONTRACT_CLASSES:
        return PerContract(policy.fee_per_contract)
    return BpsOfNotional(policy.fee_bps)
