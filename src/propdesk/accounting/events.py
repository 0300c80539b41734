"""Ledger events: past-tense facts, each carrying its ``cash_delta``.

Folding the events of an account from an empty state reproduces the account exactly
(:func:`propdesk.accounting.kernel.fold`). Events serialize to JSON-safe payloads with decimals as
strings, so a stored ledger round-trips without losing a digit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, ClassVar, TypeAlias, get_args

from propdesk.accounting.positions import Position
from propdesk.accounting.state import AccountStatus
from propdesk.model.codec import from_json, to_json, type_hints
from propdesk.model.fills import Fill
from propdesk.model.instruments import InstrumentSpec
from propdesk.model.numbers import ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class EventBase:
    """The fields every ledger event has; the events themselves form the closed union :data:`Event`."""

    type: ClassVar[str] = "event"
    at: datetime
    cash_delta: Decimal = ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountCreated(EventBase):
    """The account exists (pending); the first event of every ledger."""

    type: ClassVar[str] = "account_created"
    mode: str
    currency: str
    starting_balance: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountStarted(EventBase):
    type: ClassVar[str] = "account_started"
    currency: str
    leverage: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class FillApplied(EventBase):
    type: ClassVar[str] = "fill_applied"
    fill: Fill
    realized_pnl: Decimal
    position_qty_after: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionsMarked(EventBase):
    type: ClassVar[str] = "positions_marked"
    prices: Mapping[str, Decimal]
    equity_after: Decimal
    unrealized_pnl_after: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class FundsReserved(EventBase):
    type: ClassVar[str] = "funds_reserved"
    order_id: str
    amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservationReleased(EventBase):
    type: ClassVar[str] = "reservation_released"
    order_id: str
    amount: Decimal
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CashAdjusted(EventBase):
    type: ClassVar[str] = "cash_adjusted"
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChanged(EventBase):
    type: ClassVar[str] = "status_changed"
    from_status: AccountStatus
    to_status: AccountStatus
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TradingDayStarted(EventBase):
    type: ClassVar[str] = "trading_day_started"
    trading_day: date
    day_start_equity: Decimal
    day_start_balance: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountLiquidated(EventBase):
    type: ClassVar[str] = "account_liquidated"
    reason: str
    equity_after: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class FillVoided(EventBase):
    """A fill taken back: the symbol's position, PnL, fees and cash as if it never happened.

    The figures come from replaying the symbol's other fills, so later fills keep their own
    prices; ``cash_delta`` undoes exactly the cash the fill moved (directly and through PnL).
    """

    type: ClassVar[str] = "fill_voided"
    fill_id: str
    instrument: InstrumentSpec
    position_qty: Decimal
    position_cost: Decimal
    position_mark: Decimal
    position_opened_at: datetime | None
    realized_pnl_delta: Decimal
    fee_refund: Decimal
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountReset(EventBase):
    """The account starts over at ``starting_balance``, its history kept in the ledger before it.

    Recorded after the reset's releases (and any closing fills), so the account holds no
    reservation when it folds; the positions still held are ``archived``: the fold removes them
    without a fill or a price. ``cash_delta`` tops cash up (or down) to the new starting balance. The fold zeroes realized PnL, fees and adjustments, sets the high watermark and the
    day-start anchors to the starting balance and makes the account active again, whatever
    ``from_status`` it had (a paper account or a bought prop-evaluation reset starts afresh).
    The trading day stays: the day already begun simply restarts from the new balance.
    """

    type: ClassVar[str] = "account_reset"
    starting_balance: Decimal
    from_status: AccountStatus
    reason: str
    # The positions the reset archived (held when it happened, with their last marks): they leave
    # the account without a fill, so a reset never needs a quote. Older resets closed by fills.
    archived: tuple[Position, ...] = ()

    @property
    def equity_delta(self) -> Decimal:
        """How the reset moved equity: the cash it set, less the archived positions' value."""
        return self.cash_delta - sum((p.equity_contribution for p in self.archived), ZERO)


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentRecorded(EventBase):
    """Something went wrong for this account (e.g. a mark-to-market failure); no state change."""

    type: ClassVar[str] = "incident_recorded"
    kind: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionSettled(EventBase):
    """An option position left the book at its expiry: exercised (a long in the money by at least
    a cent), assigned (a short in the money) or expired worthless; no state of its own.

    It is recorded after the fills that carry the settlement (the option leaving the book, the
    delivery of the underlying at the strike or the cash of an index option) and keeps what
    decided it: the settlement price of the underlying and where it came from (None for a
    position settled without one). ``key`` is
    ``account:contract:trading date`` and makes the run idempotent.
    """

    type: ClassVar[str] = "option_settled"
    key: str
    symbol: str
    underlying: str
    action: str  # "exercise" | "assignment" | "expiry"
    qty: Decimal  # the signed position in contracts that was settled
    strike: Decimal
    right: str
    trading_date: date
    settlement_price: Decimal | None
    settlement_source: str
    fill_ids: tuple[str, ...] = ()
    # The cash the settlement's fills moved (the kernel sets it; the record itself moves none).
    net_amount: Decimal = ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class DividendPaid(EventBase):
    """A cash dividend on a position held over its ex-date: ``cash_delta`` is ``qty x rate``
    (credited to a long, debited from a short); ``action_id`` names the corporate action."""

    type: ClassVar[str] = "dividend_paid"
    action_id: str
    symbol: str
    qty: Decimal
    rate: Decimal
    ex_date: date


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitApplied(EventBase):
    """A forward or reverse split of ``symbol`` by ``new_rate / old_rate``: the position becomes
    ``qty_after`` at ``cost_after`` (the cost basis is kept, less the share of a fractional
    remainder paid out as cash in lieu), marked at ``mark_after``. The remainder ``lieu_qty`` is
    paid at ``lieu_price``; ``cash_delta`` is that payment and ``realized_pnl`` its gain."""

    type: ClassVar[str] = "split_applied"
    action_id: str
    symbol: str
    old_rate: Decimal
    new_rate: Decimal
    ex_date: date
    qty_before: Decimal
    qty_after: Decimal
    cost_after: Decimal
    mark_after: Decimal
    lieu_qty: Decimal
    lieu_price: Decimal
    realized_pnl: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolChanged(EventBase):
    """The position in ``old_symbol`` is now held as ``new_symbol`` (a name change); no cash moves."""

    type: ClassVar[str] = "symbol_changed"
    action_id: str
    old_symbol: str
    new_symbol: str
    ex_date: date


# The closed union of ledger events. Every dispatch over events (the kernel's ``evolve``, the rule
# fold, projections) is a ``match`` ending in ``assert_never``, so mypy reports each one a new kind
# is not handled in; the codec below knows every member (a test checks both lists agree).
Event: TypeAlias = (
    AccountCreated
    | AccountStarted
    | FillApplied
    | PositionsMarked
    | FundsReserved
    | ReservationReleased
    | CashAdjusted
    | StatusChanged
    | TradingDayStarted
    | AccountLiquidated
    | FillVoided
    | AccountReset
    | IncidentRecorded
    | OptionSettled
    | DividendPaid
    | SplitApplied
    | SymbolChanged
)

# The codec's table: built from the union itself, so a new kind is decodable as soon as it is a member.
EVENT_TYPES: Mapping[str, type[Event]] = MappingProxyType({cls.type: cls for cls in get_args(Event)})


class EventCodecError(ValueError):
    """A stored payload that does not decode into its event type."""


def event_payload(event: Event) -> dict[str, Any]:
    """JSON-safe payload of an event (without its type, time and cash delta, stored in columns)."""
    return {
        f.name: to_json(getattr(event, f.name))
        for f in dataclasses.fields(event)
        if f.name not in ("at", "cash_delta")
    }


def decode_event(type_name: str, at: datetime, cash_delta: Decimal, payload: Mapping[str, Any]) -> Event:
    """Rebuild an event from its stored columns and payload."""
    try:
        cls = EVENT_TYPES[type_name]
    except KeyError:
        raise EventCodecError(f"unknown event type {type_name!r}") from None
    hints = type_hints(cls)
    try:
        values = {name: from_json(hints[name], raw) for name, raw in payload.items()}
        return cls(at=at, cash_delta=cash_delta, **values)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise EventCodecError(f"{type_name}: payload does not decode: {exc}") from exc
