"""Trade models of the challenge Monte Carlo: who the simulated trader is.

Parametric (win rate, payoff, fixed dollar risk or a fraction of the balance, trades per day,
commission, optional in-trade excursions), a stationary block bootstrap of closed-trade PnLs (mean
block 5 keeps streaks, which i.i.d. draws break), or a scripted array (for what-if studies and for
checking the engine against the exact Decimal rule state). :mod:`~propdesk.risk.quant.trade_sources`
turns a model into the trades of the live paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ParametricTrades:
    """Trades drawn i.i.d.: a win pays ``payoff`` R, a loss costs 1 R.

    The risk R is ``risk`` dollars per trade, or ``risk_fraction`` of the balance before the
    trade. ``loser_mfe_r``: how far (in R) a losing trade first runs in the trader's favour (the
    ghost-drawdown pattern that ratchets an intraday-trailing floor); ``winner_mae_r``: how far a
    winner first goes against the trader. Both default to 0, as in LuxAlgo's simulator, which
    slightly understates intraday-trailing breach risk.
    """

    win_rate: float
    payoff: float
    risk: Decimal | None = None
    risk_fraction: float | None = None
    trades_per_day: int = 3
    commission: Decimal = Decimal(0)
    loser_mfe_r: float = 0.0
    winner_mae_r: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.win_rate <= 1:
            raise ValueError("win_rate must be in [0, 1]")
        if self.payoff <= 0:
            raise ValueError("payoff must be positive")
        if (self.risk is None) == (self.risk_fraction is None):
            raise ValueError("give exactly one of risk (dollars) or risk_fraction (of the balance)")
        if self.risk is not None and self.risk <= 0:
            raise ValueError("risk must be positive")
        if self.risk_fraction is not None and not 0 < self.risk_fraction < 1:
            raise ValueError("risk_fraction must be in (0, 1)")
        if self.trades_per_day < 1:
            raise ValueError("trades_per_day must be at least 1")
        if self.commission < 0 or self.loser_mfe_r < 0 or self.winner_mae_r < 0:
            raise ValueError("commission and excursions must not be negative")


@dataclass(frozen=True, slots=True)
class BootstrapTrades:
    """A stationary block bootstrap of closed-trade PnLs (dollars, in time order), scaled by ``scale``."""

    pnls: tuple[Decimal, ...]
    trades_per_day: int = 3
    mean_block: float = 5.0
    scale: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        if len(self.pnls) < 2:
            raise ValueError("a bootstrap needs at least two trades")
        if self.mean_block < 1:
            raise ValueError("mean_block must be at least 1")
        if self.trades_per_day < 1:
            raise ValueError("trades_per_day must be at least 1")


@dataclass(frozen=True, slots=True)
class ScriptedTrades:
    """Given PnLs: ``pnls[path, day, trade]`` in dollars (NaN means no trade).

    Optional excursions of the same shape: ``favourable`` is how far a trade that does not win
    first runs in the trader's favour, ``adverse`` how far a winning trade first goes against
    the trader (both non-negative dollars; ignored for the other kind of trade).
    """

    pnls: FloatArray
    favourable: FloatArray | None = None
    adverse: FloatArray | None = None

    @property
    def trades_per_day(self) -> int:
        return int(self.pnls.shape[2])


TradeModel = ParametricTrades | BootstrapTrades | ScriptedTrades


def bootstrap_from(pnls: Sequence[Decimal], **kwargs: object) -> BootstrapTrades:
    """A bootstrap model from closed-trade PnLs (e.g. :attr:`propdesk.risk.rules.retro_evaluation.ReplayReport.closed_trades`)."""
    return BootstrapTrades(tuple(pnls), **kwargs)  # type: ignore[arg-type]
