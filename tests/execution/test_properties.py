"""Invariants over random inputs: fills never beat the mid, gates never raise and always explain."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.execution.actions import ProposedAction
from propdesk.execution.fill_models import BpsSlippageFillModel, FillModel, MidFillModel, NbboFillModel
from propdesk.execution.policy.action_checks import check_action
from propdesk.execution.policy.codes import ACTION_CHECKS, CheckCode
from propdesk.model.instruments import Instrument, equity, future
from propdesk.model.market import Quote
from propdesk.model.orders import ActionKind, Direction, Side
from propdesk.model.policy import ExecutionPolicy, FillModelName
from tests.execution.factories import T0, filled, started, with_status

D = Decimal
INSTRUMENTS: list[Instrument] = [equity("AAPL"), equity("SNDL"), future("ESZ26"), future("CLK20")]

sides = st.sampled_from(list(Side))
instruments = st.sampled_from(INSTRUMENTS)
models: st.SearchStrategy[FillModel] = st.one_of(
    st.just(NbboFillModel()),
    st.builds(BpsSlippageFillModel, st.decimals(min_value=0, max_value=500, places=2)),
)


@st.composite
def quotes(draw: st.DrawFn, symbol: str) -> Quote:
    """Any uncrossed quote, on or off the tick grid, possibly with a zero or negative price."""
    bid = draw(st.decimals(min_value=-100, max_value=100_000, places=4))
    spread = draw(st.decimals(min_value=0, max_value=50, places=4))
    age = draw(st.integers(min_value=0, max_value=120))
    return Quote(symbol=symbol, time=T0 - timedelta(seconds=age), bid=bid, ask=bid + spread)


@given(instruments, sides, models, st.data())
def test_nbbo_and_bps_fills_are_never_better_than_mid(
    instrument: Instrument, side: Side, model: FillModel, data: st.DataObject
) -> None:
    q = data.draw(quotes(instrument.symbol))
    priced = model.price(side, D(1), q, instrument)
    assert side.sign * (priced.price - q.mid) >= 0
    assert priced.slippage >= 0
    assert priced.slippage == side.sign * (priced.price - priced.mark)
    assert (priced.bid, priced.ask, priced.mark) == (q.bid, q.ask, q.mid)
    assert instrument.is_valid_price(priced.price)


@given(instruments, sides, st.data())
def test_mid_fills_are_exactly_the_mid(instrument: Instrument, side: Side, data: st.DataObject) -> None:
    q = data.draw(quotes(instrument.symbol))
    priced = MidFillModel().price(side, D(1), q, instrument)
    assert (priced.price, priced.slippage) == (q.mid, D(0))


amounts = st.none() | st.decimals(min_value=-10, max_value=10**7, places=3)


@st.composite
def accounts(draw: st.DrawFn) -> AccountState:
    state = started(cash=draw(st.decimals(min_value=1, max_value=10**7, places=2)))
    for instrument in draw(st.lists(instruments, max_size=6, unique_by=lambda i: i.symbol)):
        side = draw(sides)
        qty = draw(st.integers(min_value=1, max_value=5000))
        price = draw(st.integers(min_value=1, max_value=10_000))
        state = filled(state, instrument, side, str(qty), str(price))
    status = draw(st.sampled_from([AccountStatus.ACTIVE, AccountStatus.PAUSED, AccountStatus.LOCKED]))
    return state if status is AccountStatus.ACTIVE else with_status(state, status)


policies = st.builds(
    ExecutionPolicy,
    fill_model=st.sampled_from(list(FillModelName)),
    slippage_bps=st.decimals(min_value=0, max_value=100, places=1),
    allowed_directions=st.sampled_from(
        [frozenset({Direction.LONG}), frozenset({Direction.SHORT}), frozenset(Direction)]
    ),
    fee_per_contract=st.none() | st.decimals(min_value=0, max_value=5, places=2),
)

LIMIT_GATES = {
    CheckCode.PRICE_STALE,
    CheckCode.MAX_ORDER_NOTIONAL,
    CheckCode.INSUFFICIENT_BUYING_POWER,
    CheckCode.MAX_OPEN_POSITIONS,
    CheckCode.MAX_OPEN_ORDERS,
}
RATIO_GATES = {
    CheckCode.MAX_ORDER_LEVERAGE,
    CheckCode.MAX_AGGREGATE_LEVERAGE,
    CheckCode.MAX_POSITION_TO_EQUITY,
}
EXPOSURE_GATES = LIMIT_GATES - {CheckCode.PRICE_STALE} | RATIO_GATES | {CheckCode.DIRECTION_NOT_ALLOWED}


@settings(max_examples=300, deadline=None)
@given(
    state=accounts(),
    policy=policies,
    kind=st.sampled_from(list(ActionKind)),
    instrument=instruments,
    qty=amounts,
    notional=amounts,
    side=st.none() | sides,
    open_orders=st.integers(min_value=0, max_value=20),
    data=st.data(),
)
def test_gates_never_raise_and_explain_every_failure(
    state: AccountState,
    policy: ExecutionPolicy,
    kind: ActionKind,
    instrument: Instrument,
    qty: Decimal | None,
    notional: Decimal | None,
    side: Side | None,
    open_orders: int,
    data: st.DataObject,
) -> None:
    quote = data.draw(st.none() | quotes(instrument.symbol))
    proposed = ProposedAction(kind, instrument, qty, notional, side)
    report = check_action(proposed, state=state, policy=policy, quote=quote, now=T0, open_orders=open_orders)

    assert [r.code for r in report.results] == list(ACTION_CHECKS)
    for result in report.failures:
        assert result.applicable
        assert result.message
        if result.code in LIMIT_GATES:
            assert isinstance(result.value, Decimal | int)
            assert isinstance(result.limit, Decimal | int)
            assert result.value > result.limit
        if result.code in RATIO_GATES:
            assert result.limit is not None
            assert result.value is not None or state.equity <= 0
    if not kind.adds_exposure:
        assert all(r.passed for r in report.results if r.code in EXPOSURE_GATES)
    if report.passed:
        assert report.order is not None
        assert report.fill is not None
        assert report.fee is not None
        assert report.fee >= 0
        assert state.status is AccountStatus.ACTIVE
        assert quote is not None
        if kind.adds_exposure:
            assert instrument.notional(report.order.qty, report.fill.price) <= policy.max_order_notional
    else:
        assert (report.order, report.fill, report.fee) == (None, None, None)
