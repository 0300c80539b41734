"""Deterministic demo strategies: they read closes and propose actions, nothing else."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from propdesk.model.orders import ActionKind


@dataclass(frozen=True, slots=True)
class Proposal:
    """An action a strategy (or an AI agent) proposes; the engine decides whether it happens."""

    symbol: str
    action: ActionKind
    notional: Decimal | None = None
    qty: Decimal | None = None


@dataclass
class SmaCrossover:
    """Long when the fast moving average crosses above the slow one, short when it crosses below.

    Each cross first closes the opposite position, then opens ``notional`` the new way; the
    engine's gates decide whether the open goes through.
    """

    fast: int = 20
    slow: int = 50
    notional: Decimal = Decimal(20_000)
    _closes: dict[str, deque[Decimal]] = field(default_factory=dict)
    _above: dict[str, bool] = field(default_factory=dict)

    def on_close(self, symbol: str, close: Decimal, position_qty: Decimal) -> list[Proposal]:
        closes = self._closes.setdefault(symbol, deque(maxlen=self.slow))
        closes.append(close)
        if len(closes) < self.slow:
            return []
        window = list(closes)
        fast = sum(window[-self.fast :], Decimal(0)) / self.fast
        slow = sum(window, Decimal(0)) / self.slow
        above = fast > slow
        previous = self._above.get(symbol)
        self._above[symbol] = above
        if previous is None or previous == above:
            return []
        proposals: list[Proposal] = []
        if position_qty != 0 and (position_qty > 0) != above:
            proposals.append(Proposal(symbol, ActionKind.CLOSE))
        opening = ActionKind.OPEN_LONG if above else ActionKind.OPEN_SHORT
        proposals.append(Proposal(symbol, opening, notional=self.notional))
        return proposals
