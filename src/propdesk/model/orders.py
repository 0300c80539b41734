"""Order-side vocabulary shared by execution, accounting and the APIs (Alpaca's spelling)."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class Direction(StrEnum):
    """Which way a position points; a policy can allow one or both."""

    LONG = "long"
    SHORT = "short"


class ActionKind(StrEnum):
    """What an AI decision (or a person) proposes to do with a symbol."""

    OPEN_LONG = "open_long"
    OPEN_SHORT = "open_short"
    INCREASE = "increase"
    REDUCE = "reduce"
    CLOSE = "close"
    HOLD = "hold"
    CANCEL = "cancel"

    @property
    def is_supported(self) -> bool:
        return self not in (ActionKind.HOLD, ActionKind.CANCEL)

    @property
    def adds_exposure(self) -> bool:
        return self in (ActionKind.OPEN_LONG, ActionKind.OPEN_SHORT, ActionKind.INCREASE)
