"""Running the order book inside a transaction: load an account's book, let it decide, store
what it collected (ledger events, fills, changed orders, trade updates), and the pieces every
order command shares (the asset resolver, the session view, the request digest, the error map)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from propdesk.accounting.events import FillApplied
from propdesk.execution.order_book.book import OrderBook
from propdesk.execution.order_book.errors import OrderRejected
from propdesk.execution.order_book.requests import OrderRequest, SessionView
from propdesk.execution.spread_orders import SpreadRequest
from propdesk.marketdata.calendars import calendar_for
from propdesk.model.ids import AccountId
from propdesk.model.instruments import AssetClass, Equity, Instrument, InvalidSymbolError, parse_instrument
from propdesk.model.orders import Order
from propdesk.services.accounts import rules
from propdesk.services.accounts.commands import policy_of
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Forbidden, Invalid, NotFound, ServiceError
from propdesk.services.transactions import AccountTx, account_tx
from propdesk.store.accounts import AccountRow
from propdesk.store.order_updates import update_row
from propdesk.store.orders import AssetFlags
from propdesk.store.uow import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Submitted:
    order: Order
    legs: list[Order]
    replayed: bool


def session_view(asset_class: AssetClass, now: datetime) -> SessionView:
    """What the asset class's calendar says at ``now`` (crypto: always open)."""
    calendar = calendar_for(asset_class)
    if calendar is None:
        return SessionView.always_open()
    return SessionView(calendar.is_open(now), calendar.day_order_expiry(now), calendar.next_open(now))


def _error(exc: OrderRejected) -> ServiceError:
    kinds: dict[str, type[ServiceError]] = {
        "invalid": Invalid,
        "forbidden": Forbidden,
        "not_found": NotFound,
        "conflict": Invalid,
    }
    return kinds[exc.kind](exc.code, exc.message, dict(exc.details))


class AssetResolver:
    """Instruments with the asset flags stored for them (shortable, easy to borrow, tradable)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._flags: dict[str, AssetFlags | None] = {}

    def flags(self, symbol: str) -> AssetFlags | None:
        if symbol not in self._flags:
            self._flags[symbol] = self._uow.orders.asset_flags([symbol]).get(symbol)
        return self._flags[symbol]

    def __call__(self, symbol: str, asset_class: AssetClass | None) -> Instrument:
        try:
            instrument = parse_instrument(symbol, asset_class)
        except InvalidSymbolError as exc:
            raise OrderRejected("invalid_symbol", str(exc)) from None
        flags = self.flags(instrument.symbol)
        if flags is not None and isinstance(instrument, Equity):
            instrument = replace(instrument, shortable=flags.shortable, easy_to_borrow=flags.easy_to_borrow)
        return instrument


def request_hash(request: OrderRequest | SpreadRequest) -> str:
    """What idempotency compares: the request with decimals normalized (``10`` == ``10.00``) and
    the symbol upper-cased. Only decimal fields are normalized; a symbol or id that merely looks
    like a number stays as sent."""

    def canon(value: Any) -> Any:
        if isinstance(value, Decimal):
            try:
                return format(value.normalize(), "f")
            except ArithmeticError:
                return str(value)
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, dict):
            return {k: canon(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [canon(v) for v in value]
        return value

    data = canon(dataclasses.asdict(request))
    if "symbol" in data:
        data["symbol"] = str(data["symbol"]).upper()
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


Act = Callable[[OrderBook, UnitOfWork, AccountRow], T]


def _run(
    ctx: ServiceContext,
    account_id: AccountId,
    act: Act[T],
    *,
    payloads: dict[str, dict[str, Any]] | None = None,
) -> T:
    """Lock, load the book, act, store what the book collected, commit."""
    with account_tx(ctx.engine, account_id) as tx:
        return _run_in(ctx, tx, act, payloads=payloads)


def _run_in(
    ctx: ServiceContext,
    tx: AccountTx,
    act: Act[T],
    *,
    payloads: dict[str, dict[str, Any]] | None = None,
) -> T:
    """Load the book of the locked account, act, store what the book collected (no commit)."""
    uow, account = tx.uow, tx.account
    loaded = uow.orders.open_orders(account.id)
    book = OrderBook.of(tx.state, policy_of(account), loaded, resolve=AssetResolver(uow), new_id=ctx.ids)
    book.allow_new_exposure = not ctx.settings.new_orders_disabled
    # An evaluation under a rule pack is judged on real fills: no pd-fill-/pd-reject- there, and
    # an operator (a competition) may turn them off for every account.
    book.allow_forced_outcomes = ctx.settings.forced_outcomes and account.rule_pack is None
    try:
        result = act(book, uow, account)
    except OrderRejected as exc:
        raise _error(exc) from None
    store_book(ctx, uow, account, book, known={o.id for o in loaded}, payloads=payloads)
    tx.state = book.state
    return result


def store_book(
    ctx: ServiceContext,
    uow: UnitOfWork,
    account: AccountRow,
    book: OrderBook,
    *,
    known: set[str],
    payloads: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Write what ``book`` collected inside the caller's locked unit of work."""
    now = ctx.clock()
    first = next(iter(book.changed), None)
    uow.accounts.save(account.id, book.state, book.events, correlation_id=first, recorded_at=now)
    uow.orders.save(list(book.changed.values()), known=known, payloads=payloads or {})
    positions_after = {
        e.fill.fill_id: e.position_qty_after for e in book.events if isinstance(e, FillApplied)
    }
    uow.orders.record_updates(
        [
            update_row(
                account.id,
                u.event,
                u.order,
                u.at,
                u.fill,
                None if u.fill is None else positions_after.get(u.fill.fill_id),
            )
            for u in book.updates
        ]
    )
    if book.fills:
        rules.fold_and_apply(ctx, uow, account, book.state, book.events)


Guard = Callable[[UnitOfWork], None]
"""A caller's own check run inside the order's transaction, under the account lock, after the
idempotency check (a resend is answered first) and before the order engine; it raises a
ServiceError to refuse. The Alpaca account configuration and position closes use it, so what
they check cannot change before the order is placed."""
