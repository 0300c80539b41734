"""Random interleavings of submit, cancel, replace and market events (bars with partial volume,
quotes with displayed sizes, session closes) on one account's book, under every fill model.

After every step:

* the kernel's reservations are exactly the open orders' (``reserved_for_orders`` equals the sum
  of what open orders hold, each at least zero; closed orders hold nothing);
* buying power is never overdrawn by the book: right after every reservation and every fill that
  adds exposure, available capital is at least zero (fills that reduce exposure are always made);
* the ledger recomputes: replaying the starting events plus everything the book emitted gives
  the book's state exactly;
* no order fills more than it asks, and the fills add up to the orders and to the position;
* a bracket's (or OTO's) exits never close more than its entry filled, and an OCO's two legs
  never more than it asked;
* a refused request changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from propdesk.accounting.events import Event, FillApplied, FundsReserved
from propdesk.accounting.kernel import CreateAccount, Start, evolve, handle, replay
from propdesk.accounting.state import AccountState
from propdesk.execution.order_book.book import OrderBook
from propdesk.execution.order_book.buying_power import open_reserved
from propdesk.execution.order_book.errors import OrderRejected
from propdesk.execution.order_book.requests import OrderRequest, ReplaceRequest, StopLoss, TakeProfit, Tick
from propdesk.model.ids import AccountId
from propdesk.model.instruments import AssetClass
from propdesk.model.market import Bar, Quote
from propdesk.model.numbers import ZERO
from propdesk.model.orders import Order, OrderClass, OrderStatus, OrderType, Side, TimeInForce
from propdesk.model.policy import ExecutionPolicy, FillModelName
from propdesk.services.orders.book_runner import session_view
from tests.execution.factories import T0
from tests.execution.order_book.test_book import ids, parse

D = Decimal
ACCOUNT = "acct-prop"
CENT = D("0.01")
MINUTE = timedelta(minutes=1)

POLICIES = [
    ExecutionPolicy(),
    ExecutionPolicy(fill_model=FillModelName.NBBO),
    ExecutionPolicy(fill_model=FillModelName.VOLUME_SHARE, participation_rate=D("0.25")),
    ExecutionPolicy(fill_model=FillModelName.ALPACA_PARITY, partial_fill_probability=D("0.5")),
]

# --- operations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submit:
    side: Side
    qty: Decimal
    type: OrderType
    tif: TimeInForce
    offset: int  # cents from the current price: the limit, or the stop
    spread: int  # cents between a stop-limit's stop and limit; a trailing stop's trail
    order_class: OrderClass = OrderClass.SIMPLE


@dataclass(frozen=True)
class Cancel:
    pick: int


@dataclass(frozen=True)
class Replace:
    pick: int
    qty: Decimal | None
    offset: int | None
    tif: TimeInForce | None


@dataclass(frozen=True)
class BarEvent:
    gap: int  # cents from the last price to the open
    up: int
    down: int
    drift: int
    volume: int


@dataclass(frozen=True)
class QuoteEvent:
    move: int
    spread: int
    bid_size: int
    ask_size: int


@dataclass(frozen=True)
class Close:
    """The session closes (a close event with its last bar or quote); the next one opens."""


Op = Submit | Cancel | Replace | BarEvent | QuoteEvent | Close

quantities = st.one_of(
    st.integers(1, 60).map(D),
    st.decimals(min_value=D("0.01"), max_value=D(20), places=2),
)
submits = st.builds(
    Submit,
    side=st.sampled_from(list(Side)),
    qty=quantities,
    type=st.sampled_from(list(OrderType)),
    tif=st.sampled_from([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]),
    offset=st.integers(-400, 400),
    spread=st.integers(1, 300),
)
ops: st.SearchStrategy[Op] = st.one_of(
    submits,
    st.builds(
        Submit,
        side=st.sampled_from(list(Side)),
        qty=quantities,
        type=st.sampled_from([OrderType.MARKET, OrderType.LIMIT]),
        tif=st.sampled_from([TimeInForce.DAY, TimeInForce.GTC]),
        offset=st.integers(-300, 300),
        spread=st.integers(50, 600),
        order_class=st.sampled_from([OrderClass.BRACKET, OrderClass.OTO, OrderClass.OCO]),
    ),
    st.builds(Cancel, st.integers(0, 20)),
    st.builds(
        Replace,
        st.integers(0, 20),
        st.none() | quantities,
        st.none() | st.integers(-400, 400),
        st.none() | st.sampled_from([TimeInForce.DAY, TimeInForce.GTC]),
    ),
    st.builds(
        BarEvent,
        st.integers(-500, 500),
        st.integers(0, 300),
        st.integers(0, 300),
        st.integers(-300, 300),
        st.integers(0, 300),
    ),
    st.builds(
        QuoteEvent, st.integers(-300, 300), st.integers(1, 20), st.integers(0, 300), st.integers(0, 300)
    ),
    st.just(Close()),
)

# --- the world ---------------------------------------------------------------------------------


def started_with_events(cash: Decimal, leverage: Decimal) -> tuple[AccountState, list[Event]]:
    created = handle(
        AccountState(account_id=AccountId(ACCOUNT)),
        CreateAccount(at=T0 - timedelta(days=1), mode="paper", currency="USD", starting_balance=cash),
    )
    started = handle(created.state, Start(at=T0 - timedelta(days=1), starting_cash=cash, leverage=leverage))
    return started.state, [*created.events, *started.events]


def cents(value: int) -> Decimal:
    return max(D(value), D(100)) * CENT  # never under a dollar: the penny tick applies


@dataclass
class World:
    book: OrderBook
    start: list[Event]
    now: datetime
    price: int  # cents
    quote: Quote
    last_bar: Bar | None = None
    folded: AccountState = field(default_factory=lambda: AccountState(account_id=AccountId(ACCOUNT)))
    seen: int = 0  # how many of the book's events the buying-power check has folded
    rejections: int = 0
    oco_asked: dict[str, Decimal] = field(default_factory=dict)

    def advance(self) -> None:
        self.now += MINUTE

    def open_ids(self) -> list[str]:
        return [o.id for o in self.book.open_orders()]

    def request_of(self, op: Submit) -> OrderRequest:
        price = self.price
        limit = stop = None
        trail_price = trail_percent = None
        if op.type is OrderType.LIMIT:
            limit = cents(price + op.offset)
        elif op.type is OrderType.STOP:
            stop = cents(price + op.offset)
        elif op.type is OrderType.STOP_LIMIT:
            stop = cents(price + op.offset)
            limit = cents(price + op.offset + (op.spread if op.side is Side.BUY else -op.spread))
        elif op.type is OrderType.TRAILING_STOP:
            if op.spread % 2:
                trail_price = D(op.spread) * CENT
            else:
                trail_percent = D(op.spread % 10 + 1)
        take_profit = stop_loss = None
        order_class = op.order_class
        if order_class is not OrderClass.SIMPLE:
            # Exits on the profit and the loss side of the price: the opposite side of a bracket or
            # OTO entry, the OCO's own side.
            exit_side = op.side if order_class is OrderClass.OCO else op.side.opposite
            sign = -exit_side.sign
            take_profit = TakeProfit(limit_price=cents(price + sign * op.spread))
            stop_loss = StopLoss(stop_price=cents(price - sign * op.spread))
            if order_class is OrderClass.OTO and op.offset % 2:
                take_profit = None
            elif order_class is OrderClass.OTO:
                stop_loss = None
            if order_class is OrderClass.OCO:
                limit = take_profit.limit_price if take_profit else None
        return OrderRequest(
            client_order_id=f"c-{len(self.book.orders)}-{self.now:%H%M}",
            symbol="AAPL",
            side=op.side,
            type=OrderType.LIMIT if order_class is OrderClass.OCO else op.type,
            time_in_force=op.tif,
            qty=op.qty,
            limit_price=limit,
            stop_price=stop,
            trail_price=trail_price,
            trail_percent=trail_percent,
            order_class=order_class,
            take_profit=take_profit,
            stop_loss=stop_loss,
        )

    def attempt(self, action: str, run: Callable[[], Order]) -> Order | None:
        book = self.book
        before = (book.state, dict(book.orders), len(book.events), len(book.fills), len(book.updates))
        try:
            return run()
        except OrderRejected:
            self.rejections += 1
            after = (book.state, dict(book.orders), len(book.events), len(book.fills), len(book.updates))
            assert after == before, f"a refused {action} changed the book"
            return None

    def apply(self, op: Op) -> None:
        book = self.book
        session = session_view(AssetClass.US_EQUITY, self.now)
        if isinstance(op, Submit):
            req = self.request_of(op)
            placed = self.attempt(
                "submit", lambda: book.submit(req, quote=self.quote, session=session, now=self.now)
            )
            if placed is not None and placed.order_class is OrderClass.OCO:
                self.oco_asked[placed.id] = placed.qty
        elif isinstance(op, Cancel):
            open_ids = self.open_ids()
            if open_ids:
                order_id = open_ids[op.pick % len(open_ids)]
                self.attempt("cancel", lambda: book.cancel(order_id, now=self.now))
        elif isinstance(op, Replace):
            open_ids = self.open_ids()
            if open_ids:
                order = book.orders[open_ids[op.pick % len(open_ids)]]
                moved = None if op.offset is None else cents(self.price + op.offset)
                change = ReplaceRequest(
                    qty=op.qty,
                    time_in_force=op.tif,
                    limit_price=moved if order.limit_price is not None else None,
                    stop_price=moved if order.limit_price is None and order.stop_price is not None else None,
                )
                self.attempt(
                    "replace",
                    lambda: book.replace(order.id, change, quote=self.quote, session=session, now=self.now),
                )
        elif isinstance(op, BarEvent):
            start = self.now
            self.advance()
            o = self.price + op.gap
            c = o + op.drift
            candle = Bar(
                "AAPL",
                "1Min",
                start,
                cents(o),
                cents(max(o, c) + op.up),
                cents(min(o, c) - op.down),
                cents(c),
                D(op.volume),
            )
            self.price = int(candle.close / CENT)
            self.last_bar = candle
            book.on_tick(Tick("AAPL", self.now, bar=candle, starts=start))
        elif isinstance(op, QuoteEvent):
            self.advance()
            self.price = max(100 + op.spread, self.price + op.move)
            bid = cents(self.price)
            self.quote = Quote(
                "AAPL",
                self.now,
                bid,
                bid + D(op.spread) * CENT,
                bid_size=D(op.bid_size),
                ask_size=D(op.ask_size),
            )
            self.last_bar = None
            book.on_tick(Tick("AAPL", self.now, quote=self.quote))
        else:
            close = session.close
            assert session.is_open
            assert close is not None
            book.on_tick(
                Tick(
                    "AAPL",
                    close,
                    quote=self.quote if self.last_bar is None else None,
                    bar=self.last_bar,
                    closes_session=True,
                )
            )
            assert not [o for o in book.open_orders() if o.time_in_force is TimeInForce.DAY]
            self.now = session_view(AssetClass.US_EQUITY, close).next_open or close
            self.last_bar = None
        self.advance()

    # --- the invariants ---------------------------------------------------------------------------

    def check(self) -> None:
        book, state = self.book, self.book.state
        orders = list(book.orders.values())
        # Reservations: the kernel holds exactly what the open orders hold.
        assert dict(state.reservations) == dict(open_reserved(orders))
        assert state.reserved_for_orders == sum((o.reserved for o in orders if o.is_open), ZERO) >= 0
        assert all(o.reserved >= 0 for o in orders)
        assert all(o.reserved == 0 for o in orders if not o.is_open)
        # Buying power: every reservation and every exposure-adding fill left it at or above zero.
        for emitted in book.events[self.seen :]:
            held = self.folded.positions.get("AAPL")
            self.folded = evolve(self.folded, emitted)
            if isinstance(emitted, FundsReserved):
                assert self.folded.available_capital >= 0
            if isinstance(emitted, FillApplied):
                before = held.qty if held else ZERO
                after = emitted.position_qty_after
                if abs(after) > abs(before) or before * after < 0:
                    assert self.folded.available_capital >= 0, "an exposure-adding fill overdrew the account"
        self.seen = len(book.events)
        assert state.buying_power >= 0
        # Recompute agrees: the ledger alone rebuilds the state.
        assert replay(AccountId(ACCOUNT), [*self.start, *book.events]) == state
        assert self.folded == state
        # Quantities: no order fills more than it asks; the fills add up.
        by_order: dict[str, list[tuple[Decimal, Decimal]]] = {}
        for fill in book.fills:
            assert fill.order_id is not None
            by_order.setdefault(fill.order_id, []).append((fill.qty, fill.price))
        for order in orders:
            assert ZERO <= order.filled_qty <= order.qty
            made = by_order.get(order.id, [])
            assert sum((qty for qty, _ in made), ZERO) == order.filled_qty
            assert sum((qty * price for qty, price in made), ZERO) == order.filled_value
            if order.status is OrderStatus.FILLED:
                assert order.filled_qty == order.qty
            if order.status is OrderStatus.PARTIALLY_FILLED:
                assert ZERO < order.filled_qty < order.qty
            if order.status in (OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.HELD):
                assert order.filled_qty == 0
        position = state.positions.get("AAPL")
        signed = sum((f.side.sign * f.qty for f in book.fills), ZERO)
        assert (position.qty if position else ZERO) == signed
        # Brackets: the exits close at most what the entry bought (or sold).
        for parent in orders:
            if parent.order_class is OrderClass.SIMPLE or parent.parent_id is not None:
                continue
            exits = [o for o in orders if o.parent_id == parent.id]
            if parent.replaces or parent.replaced_by or any(o.replaces or o.replaced_by for o in exits):
                continue  # a client's replace may ask for any quantity
            closed = sum((o.filled_qty for o in exits), ZERO)
            if parent.order_class is OrderClass.OCO:
                assert parent.filled_qty + closed <= self.oco_asked[parent.id]
                continue
            assert closed <= parent.filled_qty
            if parent.is_open:
                assert not [o for o in exits if o.is_working], "an exit works before its entry filled"
                assert all(o.status in (OrderStatus.HELD, OrderStatus.CANCELED) for o in exits)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.sampled_from(POLICIES),
    cash=st.sampled_from([D(3_000), D(20_000), D(100_000)]),
    leverage=st.sampled_from([D(1), D(2), D(5)]),
    script=st.lists(ops, min_size=10, max_size=40),
)
def test_random_interleavings_keep_the_books_straight(
    policy: ExecutionPolicy, cash: Decimal, leverage: Decimal, script: list[Op]
) -> None:
    state, start = started_with_events(cash, leverage)
    book = OrderBook.of(state, policy, [], resolve=parse, new_id=ids())
    first = Quote("AAPL", T0, D("99.99"), D("100.01"), bid_size=D(100), ask_size=D(100))
    world = World(book, start, T0, 10_000, first, folded=replay(AccountId(ACCOUNT), start))
    world.check()
    for op in script:
        note(f"{world.now:%Y-%m-%d %H:%M} {op}")
        world.apply(op)
        world.check()
    orders = book.orders.values()
    event(f"fills: {min(len(book.fills), 10)}+" if len(book.fills) >= 10 else f"fills: {len(book.fills)}")
    event(f"partially filled orders: {min(sum(1 for o in orders if 0 < o.filled_qty < o.qty), 3)}")
    event(f"refused: {min(world.rejections, 5)}")
    event(f"replaced: {min(sum(1 for o in orders if o.replaces), 2)}")
