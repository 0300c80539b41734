"""Order use cases: submit, cancel, replace and read orders; each command is one transaction.

Every command locks the account, loads its state and open orders into an
:class:`~propdesk.execution.order_book.book.OrderBook`, lets the book decide, and stores what it
collected (ledger events, fills, changed orders, trade updates) before committing. A refusal
raises before anything is written, so a refused order leaves no trace but the error.

Deterministic outcomes (``pd-fill-`` / ``pd-reject-`` client order ids, see
:mod:`propdesk.execution.order_book`) are for testing: accounts under a prop-firm rule pack
refuse them (``forced_outcome_not_allowed``), since their results must come from real fills.

Idempotency: ``client_order_id`` is unique per account. Sending the same order again with the
same id returns the stored order (``replayed``); the same id with a different order is refused
(``duplicate_client_order_id``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from propdesk.execution import spread_orders
from propdesk.execution.order_book.book import OrderBook
from propdesk.execution.order_book.errors import OrderRejected
from propdesk.execution.order_book.requests import OrderRequest, ReplaceRequest
from propdesk.execution.policy.codes import CheckCode
from propdesk.execution.policy.order_checks import quantity_of
from propdesk.execution.spread_orders import SpreadRequest
from propdesk.model.ids import AccountId, OrderId
from propdesk.model.instruments import AssetClass, Instrument
from propdesk.model.market import Quote
from propdesk.model.orders import Order, OrderClass, OrderStatus, Side
from propdesk.risk.gates import OrderIntent
from propdesk.services.accounts import rules
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Disabled, Forbidden, Invalid, NotFound, Refused
from propdesk.services.orders.book_runner import (
    AssetResolver,
    Guard,
    Submitted,
    _run,
    _run_in,
    request_hash,
    session_view,
)
from propdesk.services.transactions import AccountTx, account_tx
from propdesk.store.accounts import AccountRow
from propdesk.store.uow import UnitOfWork

T = TypeVar("T")


def _check_trading_enabled(ctx: ServiceContext) -> None:
    """The server-wide kill switch: no new order, replacement or roll (cancels stay allowed)."""
    if ctx.settings.trading_disabled:
        raise Disabled("trading_disabled", "trading is disabled on this server (kill switch)")


def _resent(uow: UnitOfWork, account_id: AccountId, client_order_id: str, digest: str) -> Submitted | None:
    """The stored order when this client order id was used before for the same request; a 422
    ``duplicate_client_order_id`` when it was used for a different one; None when it is new."""
    existing = uow.orders.by_client_id(account_id, client_order_id)
    if existing is None:
        return None
    if uow.orders.payload(existing.id).get("requestHash") != digest:
        raise Invalid(
            "duplicate_client_order_id",
            f"client_order_id {client_order_id!r} is already used by order {existing.id}",
            {"orderId": existing.id},
        )
    return Submitted(existing, uow.orders.children(account_id, [existing.id]), replayed=True)


def _admit(
    uow: UnitOfWork, account_id: AccountId, client_order_id: str, digest: str, guard: Guard | None
) -> Submitted | None:
    """Before a new order reaches the book: a resend is answered with the stored order, then the
    caller's guard may refuse. None when the order is new and admitted."""
    resent = _resent(uow, account_id, client_order_id, digest)
    if resent is None and guard is not None:
        guard(uow)
    return resent


def submit_order(
    ctx: ServiceContext, account_id: AccountId, request: OrderRequest, *, guard: Guard | None = None
) -> Submitted:
    """Accept ``request`` (see the module docstring for idempotency); fills at once if it can."""
    _check_trading_enabled(ctx)
    with account_tx(ctx.engine, account_id) as tx:
        return submit_order_in(ctx, tx, request, guard=guard)


def submit_order_in(
    ctx: ServiceContext, tx: AccountTx, request: OrderRequest, *, guard: Guard | None = None
) -> Submitted:
    """:func:`submit_order` inside the caller's transaction on the locked account (no commit)."""
    _check_trading_enabled(ctx)
    account_id = tx.state.account_id
    digest = request_hash(request)

    def act(book: OrderBook, uow: UnitOfWork, account: AccountRow) -> Submitted:
        resent = _admit(uow, account_id, request.client_order_id, digest, guard)
        if resent is not None:
            return resent
        resolver = book.resolve
        instrument = resolver(request.symbol, request.asset_class)
        flags = resolver.flags(instrument.symbol) if isinstance(resolver, AssetResolver) else None
        if flags is not None and not flags.tradable:
            raise Forbidden(CheckCode.ASSET_NOT_TRADABLE.value, f"{instrument.symbol} is not tradable")
        qty = request.qty
        if qty is None and account.rule_pack is not None:
            qty = _notional_qty(uow, request, instrument, ctx.clock())
        if qty is not None:
            intent = OrderIntent(instrument.symbol, instrument.asset_class, request.side, qty)
            _rule_gate(ctx, uow, account, book, intent)
        now = ctx.clock()
        quote = uow.prices.latest_quote(instrument.symbol, at_or_before=now)
        order = book.submit(request, quote=quote, session=session_view(instrument.asset_class, now), now=now)
        payloads[order.id] = {"requestHash": digest}
        legs = [o for o in book.orders.values() if o.parent_id == order.id]
        return Submitted(order, sorted(legs, key=lambda o: o.id), replayed=False)

    payloads: dict[str, dict[str, Any]] = {}
    return _run_in(ctx, tx, act, payloads=payloads)


def _notional_qty(
    uow: UnitOfWork, request: OrderRequest, instrument: Instrument, now: datetime
) -> Decimal | None:
    """The quantity a notional order buys at the latest quote, as the book will size it, so the rule
    pack checks it like a quantity order; None when it cannot be sized (the book refuses it then)."""
    if request.notional is None:
        return None
    try:
        return quantity_of(request, instrument, uow.prices.latest_quote(instrument.symbol, at_or_before=now))
    except OrderRejected:
        return None


def _rule_gate(
    ctx: ServiceContext,
    uow: UnitOfWork,
    account: AccountRow,
    book: OrderBook,
    intent: OrderIntent,
) -> None:
    """The account's prop-firm rule pack, asked before an order (or a larger replacement) rests."""
    report = rules.gate(ctx, uow, account, book.state, intent)
    if report is not None and not report.passed:
        failure = report.failures[0]
        raise Forbidden(
            failure.code.value, failure.message, {"gates": [r.as_json() for r in report.failures]}
        )


def submit_spread(
    ctx: ServiceContext, account_id: AccountId, request: SpreadRequest, *, guard: Guard | None = None
) -> Submitted:
    """Accept a multi-leg option order: all legs fill at once or none (see spread_orders)."""
    _check_trading_enabled(ctx)
    digest = request_hash(request)

    def act(book: OrderBook, uow: UnitOfWork, account: AccountRow) -> Submitted:
        resent = _admit(uow, account_id, request.client_order_id, digest, guard)
        if resent is not None:
            return resent
        now = ctx.clock()
        found = uow.prices.latest_quotes(
            [leg.symbol.replace(" ", "") for leg in request.legs], at_or_before=now
        )
        quotes: dict[str, Quote | None] = dict(found)
        parent = spread_orders.submit_spread(
            book, request, quotes=quotes, session=session_view(AssetClass.US_OPTION, now), now=now
        )
        payloads[parent.id] = {"requestHash": digest}
        legs = [o for o in book.orders.values() if o.parent_id == parent.id]
        return Submitted(parent, legs, replayed=False)

    payloads: dict[str, dict[str, Any]] = {}
    return _run(ctx, account_id, act, payloads=payloads)


@dataclass(frozen=True, slots=True)
class Rolled:
    close: Order
    open: Order


def roll(ctx: ServiceContext, account_id: AccountId, close: OrderRequest, open_: OrderRequest) -> Rolled:
    """Roll a position (a future into the next month, an option into a later expiry): the close order
    first, then the open order, in one transaction. If the close is refused or does not fill
    completely at once, the open is not sent and nothing is stored; if the open is refused, the
    close is undone with it (a roll never leaves the account half rolled)."""
    _check_trading_enabled(ctx)

    def act(book: OrderBook, uow: UnitOfWork, account: AccountRow) -> Rolled:
        now = ctx.clock()
        placed: list[Order] = []
        for label, request in (("close", close), ("open", open_)):
            if uow.orders.by_client_id(account_id, request.client_order_id) is not None:
                raise Invalid(
                    "duplicate_client_order_id",
                    f"client_order_id {request.client_order_id!r} is already used",
                )
            instrument = book.resolve(request.symbol, request.asset_class)
            quote = uow.prices.latest_quote(instrument.symbol, at_or_before=now)
            try:
                order = book.submit(
                    request, quote=quote, session=session_view(instrument.asset_class, now), now=now
                )
            except OrderRejected as exc:
                raise Refused(
                    f"roll_{label}_failed",
                    f"the {label} order was refused: {exc.message}",
                    {"code": exc.code},
                ) from None
            if label == "close" and order.status is not OrderStatus.FILLED:
                raise Refused(
                    "roll_close_failed",
                    f"the close order did not fill at once ({order.status.value}: {order.reason or 'no marketable quote'}); "
                    "the open order was not sent",
                )
            placed.append(order)
        return Rolled(placed[0], placed[1])

    return _run(ctx, account_id, act)


def cancel_order(ctx: ServiceContext, account_id: AccountId, order_id: OrderId) -> Order:
    def act(book: OrderBook, uow: UnitOfWork, account: AccountRow) -> Order:
        if order_id not in book.orders:
            stored = uow.orders.get(account_id, order_id)
            if stored is None:
                raise NotFound("order_not_found", f"order {order_id} not found")
            raise Invalid(
                "order_not_open", f"order {order_id} is {stored.status.value} and cannot be canceled"
            )
        return book.cancel(order_id, now=ctx.clock())

    return _run(ctx, account_id, act)


def is_multileg_leg(order: Order) -> bool:
    """A leg of a multi-leg order: it is canceled or replaced only with its parent."""
    return order.order_class is OrderClass.MLEG and order.parent_id is not None


def cancel_all(ctx: ServiceContext, account_id: AccountId) -> list[Order]:
    """Cancel every open order of the account (exits first, then their entries)."""
    with account_tx(ctx.engine, account_id) as tx:
        return cancel_all_in(ctx, tx)


def cancel_all_in(ctx: ServiceContext, tx: AccountTx) -> list[Order]:
    """:func:`cancel_all` inside the caller's transaction on the locked account (no commit)."""

    def act(book: OrderBook, uow: UnitOfWork, account: AccountRow) -> list[Order]:
        now = ctx.clock()
        canceled: list[Order] = []
        for order in sorted(book.open_orders(), key=lambda o: (o.parent_id is None, o.created_at, o.id)):
            if book.orders[order.id].is_open and not is_multileg_leg(order):  # legs end with their parent
                canceled.append(book.cancel(order.id, now=now))
        return canceled

    return _run_in(ctx, tx, act)


def cancel_symbols_in(ctx: ServiceContext, tx: AccountTx, symbols: Collection[str]) -> list[Order]:
    """Cancel every open order on ``symbols`` inside the caller's transaction (no commit): the
    expiry job ends the orders on the contracts it settles."""

    def act(book: OrderBook, uow: UnitOfWork, account: AccountRow) -> list[Order]:
        now = ctx.clock()
        canceled: list[Order] = []
        for order in sorted(book.open_orders(), key=lambda o: (o.parent_id is None, o.created_at, o.id)):
            if order.symbol in symbols and book.orders[order.id].is_open and not is_multileg_leg(order):
                canceled.append(book.cancel(order.id, now=now))
        return canceled

    return _run_in(ctx, tx, act)


def replace_order(
    ctx: ServiceContext,
    account_id: AccountId,
    order_id: OrderId,
    change: ReplaceRequest,
    *,
    guard: Guard | None = None,
) -> Order:
    _check_trading_enabled(ctx)

    def act(book: OrderBook, uow: UnitOfWork, account: AccountRow) -> Order:
        old = book.orders.get(order_id)
        if old is None:
            stored = uow.orders.get(account_id, order_id)
            if stored is None:
                raise NotFound("order_not_found", f"order {order_id} not found")
            raise Invalid(
                "order_not_open", f"order {order_id} is {stored.status.value} and cannot be replaced"
            )
        if change.client_order_id and uow.orders.by_client_id(account_id, change.client_order_id):
            raise Invalid(
                "duplicate_client_order_id", f"client_order_id {change.client_order_id!r} is already used"
            )
        if guard is not None:
            guard(uow)
        now = ctx.clock()
        if old.order_class is OrderClass.MLEG:
            # The parent is the only handle: its legs' quotes price the replacement (a leg is refused).
            legs = [o.symbol for o in book.orders.values() if o.parent_id == old.id]
            quotes: dict[str, Quote | None] = dict(uow.prices.latest_quotes(legs, at_or_before=now))
            return spread_orders.replace_spread(
                book,
                order_id,
                change,
                quotes=quotes,
                session=session_view(AssetClass.US_OPTION, now),
                now=now,
            )
        if change.qty is not None and change.qty > old.qty:
            intent = OrderIntent(old.symbol, old.asset_class, old.side, change.qty - old.filled_qty)
            _rule_gate(ctx, uow, account, book, intent)
        quote = uow.prices.latest_quote(old.symbol, at_or_before=now)
        return book.replace(
            order_id, change, quote=quote, session=session_view(old.asset_class, now), now=now
        )

    return _run(ctx, account_id, act)


# --- reads ---------------------------------------------------------------------------------------


def get_order(ctx: ServiceContext, account_id: AccountId, order_id: OrderId) -> tuple[Order, list[Order]]:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        order = uow.orders.get(account_id, order_id)
        if order is None:
            raise NotFound("order_not_found", f"order {order_id} not found")
        return order, uow.orders.children(account_id, [order.id])


def get_by_client_id(
    ctx: ServiceContext, account_id: AccountId, client_order_id: str
) -> tuple[Order, list[Order]]:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        order = uow.orders.by_client_id(account_id, client_order_id)
        if order is None:
            raise NotFound("order_not_found", f"no order with client_order_id {client_order_id!r}")
        return order, uow.orders.children(account_id, [order.id])


CLOSED = tuple(s.value for s in OrderStatus if not s.is_open)
OPEN = tuple(s.value for s in OrderStatus if s.is_open)


def list_orders(
    ctx: ServiceContext,
    account_id: AccountId,
    *,
    status: str = "open",
    symbols: Sequence[str] | None = None,
    side: Side | None = None,
    asset_classes: Sequence[AssetClass] | None = None,
    after: datetime | None = None,
    until: datetime | None = None,
    before_order_id: OrderId | None = None,
    after_order_id: OrderId | None = None,
    newest_first: bool = True,
    limit: int = 50,
    nested: bool = False,
) -> list[tuple[Order, list[Order]]]:
    """Alpaca's ``GET /v2/orders``: with ``nested`` a bracket's exits sit under their entry, without
    they are listed on their own; a multi-leg order's legs are always under it."""
    statuses = {"open": OPEN, "closed": CLOSED, "all": None}
    if status not in statuses:
        raise Invalid("invalid_status", f"status must be open, closed or all, not {status!r}")
    with UnitOfWork(ctx.engine, read_only=True) as uow:

        def cursor(name: str, order_id: OrderId | None) -> Order | None:
            if order_id is None:
                return None
            order = uow.orders.get(account_id, order_id)
            if order is None:
                raise NotFound("order_not_found", f"{name}: order not found")
            return order

        found = uow.orders.search(
            account_id,
            before_order=cursor("before_order_id", before_order_id),
            after_order=cursor("after_order_id", after_order_id),
            statuses=statuses[status],
            symbols=symbols,
            side=side,
            asset_classes=asset_classes,
            after=after,
            until=until,
            newest_first=newest_first,
            limit=limit,
            top_level_only=nested,
        )
        parents = [o.id for o in found if nested or o.order_class is OrderClass.MLEG]
        children = uow.orders.children(account_id, parents)
    by_parent: dict[str, list[Order]] = {}
    for child in children:
        assert child.parent_id is not None
        by_parent.setdefault(child.parent_id, []).append(child)
    return [(o, by_parent.get(o.id, [])) for o in found]
