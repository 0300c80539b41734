"""Trade sources: a trade model turned into the trades of the live paths, one trade at a time."""

from __future__ import annotations

from typing import Protocol, cast

import numpy as np
import numpy.typing as npt

from propdesk.risk.quant.splitmix import draw, stream_keys, threshold
from propdesk.risk.quant.trade_models import BootstrapTrades, ParametricTrades, ScriptedTrades, TradeModel

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class TradeSource(Protocol):
    k: int
    may_skip: bool

    def compact(self, index: IntArray) -> None:
        """Keep the per-path state of the paths at ``index`` (in order)."""
        ...

    def trade(
        self, day: int, j: int, bal: FloatArray
    ) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
        """Trade ``j`` of ``day`` for the live paths: PnL, the favourable excursion a loser shows
        first, the adverse excursion a winner shows first (None when there are none)."""
        ...


class ParametricSource:
    may_skip = False

    def __init__(self, model: ParametricTrades, seed: int, first: int, n: int) -> None:
        self.k = model.trades_per_day
        self.keys = stream_keys(seed, 0, first, n)
        self.scratch = (np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint64))
        self.threshold = threshold(model.win_rate)
        self.fixed = None if model.risk is None else float(model.risk)
        self.fraction = model.risk_fraction
        self.fee = float(model.commission)
        self.payoff = model.payoff
        self.mfe = model.loser_mfe_r
        self.mae = model.winner_mae_r

    def compact(self, index: IntArray) -> None:
        self.keys = self.keys[index]

    def trade(
        self, day: int, j: int, bal: FloatArray
    ) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
        win = draw(self.keys, (day - 1) * self.k + j, self.scratch) < self.threshold
        risk: FloatArray | float
        if self.fixed is not None:
            risk = self.fixed
            pnl = cast(FloatArray, (-self.fixed - self.fee) + win * (self.payoff * self.fixed + self.fixed))
        else:
            assert self.fraction is not None
            risk = self.fraction * bal
            pnl = (-1.0 + win * (self.payoff + 1.0)) * risk - self.fee
        up = cast(FloatArray, ~win * (self.mfe * risk)) if self.mfe else None
        down = cast(FloatArray, win * (self.mae * risk)) if self.mae else None
        return pnl, up, down


class BootstrapSource:
    may_skip = False

    def __init__(self, model: BootstrapTrades, seed: int, first: int, n: int) -> None:
        self.k = model.trades_per_day
        self.values = np.array([float(p * model.scale) for p in model.pnls], dtype=np.float64)
        self.size = np.uint64(len(self.values))
        self.restart = threshold(1.0 / model.mean_block)
        self.restart_keys = stream_keys(seed, 1, first, n)
        self.start_keys = stream_keys(seed, 2, first, n)
        self.scratch = (np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint64))
        self.pointer = np.full(n, len(self.values), dtype=np.uint64)  # out of range: start a block

    def compact(self, index: IntArray) -> None:
        self.restart_keys = self.restart_keys[index]
        self.start_keys = self.start_keys[index]
        self.pointer = self.pointer[index]

    def trade(
        self, day: int, j: int, bal: FloatArray
    ) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
        counter = (day - 1) * self.k + j
        following = self.pointer + np.uint64(1)
        restart = (draw(self.restart_keys, counter, self.scratch) < self.restart) | (following >= self.size)
        self.pointer = np.where(restart, draw(self.start_keys, counter, self.scratch) % self.size, following)
        return self.values[self.pointer], None, None


class ScriptedSource:
    may_skip = True

    def __init__(self, model: ScriptedTrades, first: int, n: int) -> None:
        self.k = model.trades_per_day
        self.block = model.pnls[first : first + n]
        self.up = None if model.favourable is None else model.favourable[first : first + n]
        self.down = None if model.adverse is None else model.adverse[first : first + n]
        self.rows: IntArray = np.arange(n, dtype=np.int64)

    def compact(self, index: IntArray) -> None:
        self.rows = self.rows[index]

    def trade(
        self, day: int, j: int, bal: FloatArray
    ) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
        if day > self.block.shape[1]:
            return np.full(self.rows.shape, np.nan), None, None
        pnl = self.block[self.rows, day - 1, j]
        wins = pnl > 0
        up = None if self.up is None else np.where(wins, 0.0, np.nan_to_num(self.up[self.rows, day - 1, j]))
        down = (
            None
            if self.down is None
            else np.where(wins, np.nan_to_num(self.down[self.rows, day - 1, j]), 0.0)
        )
        return pnl, up, down


def source_for(model: TradeModel, seed: int, first: int, n: int) -> TradeSource:
    """The source of paths ``first`` to ``first + n`` of ``model`` under ``seed``."""
    if isinstance(model, ParametricTrades):
        return ParametricSource(model, seed, first, n)
    if isinstance(model, BootstrapTrades):
        return BootstrapSource(model, seed, first, n)
    return ScriptedSource(model, first, n)
