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


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    OPG = "opg"
    CLS = "cls"


class OrderStatus(StrEnum):
    """Alpaca's order statuses (alpaca-py refuses any other value)."""

    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    DONE_FOR_DAY = "done_for_day"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    ACCEPTED = "accepted"
    PENDING_NEW = "pending_new"
    ACCEPTED_FOR_BIDDING = "accepted_for_bidding"
    STOPPED = "stopped"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    CALCULATED = "calculated"
    HELD = "held"

    @property
    def is_open(self) -> bool:
        return self in _OPEN_STATUSES


_OPEN_STATUSES = frozenset(
    {
        OrderStatus.NEW,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.ACCEPTED,
        OrderStatus.PENDING_NEW,
        OrderStatus.HELD,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
    }
)


class OrderClass(StrEnum):
    """Alpaca's order classes; ``simple`` is sent on the wire as ``""``."""

    SIMPLE = "simple"
    BRACKET = "bracket"
    OCO = "oco"
    OTO = "oto"
    MLEG = "mleg"


class LegRole(StrEnum):
    """What a child order does for its parent."""

    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    OPTION_LEG = "option_leg"


class OrderUpdate(StrEnum):
    """The trade update an order change publishes (Alpaca's ``trade_updates`` event names)."""

    NEW = "new"
    FILL = "fill"
    PARTIAL_FILL = "partial_fill"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    REJECTED = "rejected"
