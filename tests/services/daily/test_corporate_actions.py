"""Corporate actions applied to accounts: golden values computed by hand, on both databases."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from propdesk.accounting.kernel import ApplyFill, MarkToPrices
from propdesk.execution.order_book.requests import OrderRequest
from propdesk.jobs.corporate_actions import corporate_actions_job
from propdesk.marketdata.alpaca import AlpacaDataClient
from propdesk.marketdata.alpaca_http import AlpacaCredentials
from propdesk.model.fills import Fill
from propdesk.model.ids import AccountId, OrderId
from propdesk.model.instruments import AssetClass, InstrumentSpec
from propdesk.model.orders import OrderType, Side, TimeInForce
from propdesk.services.accounts import commands as accounts
from propdesk.services.accounts import lifecycle
from propdesk.services.alpaca.activities import CashActivity, account_activities, activity_query
from propdesk.services.daily.corporate_actions import (
    CorporateActionFileError,
    ImportResult,
    actions_on,
    apply_to_account,
    fetch_corporate_actions,
    import_corporate_actions,
    list_corporate_actions,
    parse_corporate_actions,
    run_corporate_actions,
)
from propdesk.services.orders import commands as orders
from propdesk.services.orders.trade_updates import updates_after
from propdesk.store.corporate_actions import CorporateActionConflict
from propdesk.store.orders import AssetFlags
from propdesk.store.uow import UnitOfWork
from tests.api.conftest import Api, build_api

D = Decimal
HEADER = "type,symbol,ex_date,payable_date,cash,old_rate,new_rate,new_symbol\n"
DATA = Path(__file__).resolve().parents[3] / "src" / "propdesk" / "data"


@pytest.fixture
def api(engine: Engine) -> Iterator[Api]:
    built = build_api(engine)
    with built.client:
        yield built


def _account(api: Api, key: str) -> AccountId:
    row = lifecycle.create_account(api.ctx, lifecycle.NewAccount(idempotency_key=key))
    account_id = AccountId(row.id)
    lifecycle.start(api.ctx, account_id)
    return account_id


def _whole_shares(api: Api, symbol: str) -> None:
    with UnitOfWork(api.ctx.engine) as uow:
        uow.orders.put_asset(AssetFlags(symbol, AssetClass.US_EQUITY, fractionable=False), api.clock())
        uow.commit()


def _fill(api: Api, account_id: AccountId, symbol: str, side: Side, qty: str, price: str) -> None:
    api.clock.advance(1)
    fill = Fill(
        fill_id=f"{account_id}-{symbol}-{side.value}-{qty}",
        order_id=None,
        instrument=InstrumentSpec(symbol, AssetClass.US_EQUITY),
        side=side,
        qty=D(qty),
        price=D(price),
        fee=D(0),
        time=api.clock(),
    )
    accounts.execute(api.ctx.engine, account_id, ApplyFill(at=api.clock(), fill=fill), clock=api.clock)


def _mark(api: Api, account_id: AccountId, symbol: str, price: str) -> None:
    api.clock.advance(1)
    accounts.execute(
        api.ctx.engine, account_id, MarkToPrices(at=api.clock(), prices={symbol: D(price)}), clock=api.clock
    )


def _rest(
    api: Api,
    account_id: AccountId,
    coid: str,
    symbol: str,
    side: Side,
    qty: str,
    *,
    limit_price: Decimal | None = None,
    stop_price: Decimal | None = None,
) -> OrderId:
    request = OrderRequest(
        client_order_id=coid,
        symbol=symbol,
        side=side,
        type=OrderType.STOP if stop_price is not None else OrderType.LIMIT,
        qty=D(qty),
        time_in_force=TimeInForce.GTC,
        limit_price=limit_price,
        stop_price=stop_price,
    )
    return OrderId(orders.submit_order(api.ctx, account_id, request).order.id)


def _no_drift(api: Api, account_id: AccountId) -> None:
    assert accounts.recompute(api.ctx.engine, account_id) == {}


def test_three_for_two_split_pays_cash_in_lieu_and_rescales_resting_orders(api: Api) -> None:
    _whole_shares(api, "NVDA")
    api.quote("NVDA", "66", "66")
    account = _account(api, "split")
    _fill(api, account, "NVDA", Side.BUY, "101", "60")  # cost 6060
    _mark(api, account, "NVDA", "66")
    limit = _rest(api, account, "buy-lim", "NVDA", Side.BUY, "30", limit_price=D("55"))
    stop = _rest(api, account, "sell-stop", "NVDA", Side.SELL, "101", stop_price=D("50"))
    before = accounts.get_state(api.ctx.engine, account)
    import_corporate_actions(api.ctx, HEADER + "split,NVDA,2007-09-11,,,2,3,\n")

    applied = run_corporate_actions(api.ctx, date(2007, 9, 11))

    assert [(a.account_id, a.symbol, len(a.events), len(a.orders)) for a in applied] == [
        (account, "NVDA", 1, 2)
    ]
    state = accounts.get_state(api.ctx.engine, account)
    held = state.positions["NVDA"]
    # 101 x 3/2 = 151.5: 151 shares kept, 0.5 paid in cash at the post-split price 66 x 2/3 = 44.
    assert held.qty == D(151)
    assert held.mark == D(44)
    # The 0.5 share carries 6060 x 0.5 / 151.5 = 20 of the cost: 6040 stays, 40 a share.
    assert held.cost == D(6040)
    assert held.avg_price == D(40)
    assert state.cash - before.cash == D(22)  # 0.5 x 44
    assert state.realized_pnl - before.realized_pnl == D(2)  # 22 - 20
    assert state.reservations == before.reservations
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        buy = uow.orders.get(account, limit)
        sell = uow.orders.get(account, stop)
    assert buy is not None
    assert sell is not None
    assert (buy.qty, buy.limit_price) == (D(45), D("36.67"))  # 55 x 2/3 = 36.666…
    assert (sell.qty, sell.stop_price) == (D(151), D("33.33"))  # 151.5 whole shares: 151
    events = [u.event for u in updates_after(api.ctx, account, 0)]
    assert events.count("replaced") == 2
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        (record,) = uow.position_history.open_records(account)
    # the record re-based: 101 entered at 60 is 151.5 at 40; the 0.5 paid in cash is its exit at 44
    assert (record.entry_qty, record.avg_entry_price) == (D("151.5"), D(40))
    assert (record.exit_qty, record.exit_value, record.realized_pnl) == (D("0.5"), D(22), D(2))
    _no_drift(api, account)
    kinds = [
        a.activity_type for a in account_activities(api.ctx, account, activity_query(activity_types="SPLIT"))
    ]
    assert kinds == ["SPLIT"]


def test_reverse_split_one_for_ten(api: Api) -> None:
    _whole_shares(api, "PENY")
    api.quote("PENY", "2.5", "2.5")
    account = _account(api, "reverse")
    _fill(api, account, "PENY", Side.BUY, "1005", "2")  # cost 2010
    _mark(api, account, "PENY", "2.5")
    limit = _rest(api, account, "buy-lim", "PENY", Side.BUY, "200", limit_price=D("1.9"))
    stop = _rest(api, account, "sell-stop", "PENY", Side.SELL, "1000", stop_price=D("1.55"))
    before = accounts.get_state(api.ctx.engine, account)
    import_corporate_actions(api.ctx, HEADER + "split,PENY,2024-03-01,,,10,1,\n")

    run_corporate_actions(api.ctx, date(2024, 3, 1))

    state = accounts.get_state(api.ctx.engine, account)
    held = state.positions["PENY"]
    # 1005 / 10 = 100.5: 100 kept, 0.5 paid at 2.5 x 10 = 25 -> 12.5; its cost 2010 x 0.5/100.5 = 10.
    assert (held.qty, held.cost, held.avg_price, held.mark) == (D(100), D(2000), D(20), D(25))
    assert state.cash - before.cash == D("12.5")
    assert state.realized_pnl - before.realized_pnl == D("2.5")
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        buy = uow.orders.get(account, limit)
        sell = uow.orders.get(account, stop)
    assert buy is not None
    assert sell is not None
    assert (buy.qty, buy.limit_price) == (D(20), D(19))
    assert (sell.qty, sell.stop_price) == (D(100), D("15.5"))
    assert state.reservations == before.reservations
    _no_drift(api, account)


def test_dividend_credits_longs_and_debits_shorts_once(api: Api) -> None:
    api.quote("ORCL", "19", "19.3")
    long_account = _account(api, "long")
    short_account = _account(api, "short")
    _fill(api, long_account, "ORCL", Side.BUY, "100", "19.29")
    _fill(api, short_account, "ORCL", Side.SELL, "40", "19.29")
    long_before = accounts.get_state(api.ctx.engine, long_account)
    short_before = accounts.get_state(api.ctx.engine, short_account)
    import_corporate_actions(api.ctx, HEADER + "dividend,ORCL,2009-04-06,,0.05,,,\n")

    first = run_corporate_actions(api.ctx, date(2009, 4, 6))
    again = run_corporate_actions(api.ctx, date(2009, 4, 6))

    assert len(first) == 2
    assert again == []
    long_after = accounts.get_state(api.ctx.engine, long_account)
    short_after = accounts.get_state(api.ctx.engine, short_account)
    assert long_after.cash - long_before.cash == D("5.00")  # 100 x 0.05
    assert short_after.cash - short_before.cash == D("-2.00")  # -40 x 0.05
    assert long_after.positions == long_before.positions
    assert long_after.seq == long_before.seq + 1
    for account in (long_account, short_account):
        _no_drift(api, account)
    dividends = account_activities(api.ctx, long_account, activity_query(activity_types="DIV"))
    assert [
        (a.activity_type, a.net_amount, a.symbol, a.qty, a.per_share_amount)
        for a in dividends
        if isinstance(a, CashActivity)
    ] == [("DIV", D("5.00"), "ORCL", D(100), D("0.05"))]


def test_name_change_moves_the_position_and_open_orders(api: Api) -> None:
    api.quote("FB", "100", "100")
    account = _account(api, "rename")
    _fill(api, account, "FB", Side.BUY, "10", "100")
    limit = _rest(api, account, "buy-lim", "FB", Side.BUY, "5", limit_price=D("90"))
    import_corporate_actions(api.ctx, HEADER + "name_change,FB,2022-06-09,,,,,META\n")

    run_corporate_actions(api.ctx, date(2022, 6, 9))

    state = accounts.get_state(api.ctx.engine, account)
    assert "FB" not in state.positions
    assert (state.positions["META"].qty, state.positions["META"].cost) == (D(10), D(1000))
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        order = uow.orders.get(account, limit)
    assert order is not None
    assert (order.symbol, order.qty, order.limit_price) == ("META", D(5), D(90))
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        assert [(r.symbol, r.entry_qty) for r in uow.position_history.open_records(account)] == [
            ("META", D(10))
        ]
    _no_drift(api, account)


def test_demo_replay_nvda_split_and_orcl_dividend(api: Api) -> None:
    """Acceptance 2: the shipped actions over the shipped bars, figures by hand.

    The NVDA bars are split-adjusted; before the 2007-09-11 ex-date they are un-adjusted by the
    documented factor 3/2 to get the prices traded then. ORCL's 2009 bars are as traded.
    """
    bars = _closes(DATA / "nvda-1999-2014.txt")
    orcl = _closes(DATA / "orcl-1995-2014.txt")
    import_corporate_actions(api.ctx, (DATA / "corporate-actions.csv").read_text(encoding="utf-8"))
    traded_0907 = bars["2007-09-07"] * 3 / 2  # 33.766666 x 1.5 = 50.649999
    traded_0910 = bars["2007-09-10"] * 3 / 2  # 33.860001 x 1.5 = 50.7900015
    assert traded_0907 == D("50.649999")
    api.quote("NVDA", str(traded_0910), str(traded_0910))
    api.quote("ORCL", str(orcl["2009-04-03"]), str(orcl["2009-04-03"]))
    account = _account(api, "demo")
    start = accounts.get_state(api.ctx.engine, account).cash
    _fill(api, account, "NVDA", Side.BUY, "100", str(traded_0907))
    _mark(api, account, "NVDA", str(traded_0910))
    resting = _rest(api, account, "nvda-lim", "NVDA", Side.BUY, "50", limit_price=D("48"))
    _fill(api, account, "ORCL", Side.BUY, "200", str(orcl["2009-04-03"]))
    cash_before = accounts.get_state(api.ctx.engine, account).cash
    assert cash_before == start - D("5064.9999") - 200 * D("19.290001")

    run_corporate_actions(api.ctx, date(2007, 9, 11))
    run_corporate_actions(api.ctx, date(2009, 4, 6))

    state = accounts.get_state(api.ctx.engine, account)
    nvda = state.positions["NVDA"]
    assert nvda.qty == D(150)
    assert nvda.cost == D("5064.9999")
    assert nvda.avg_price == D("33.766666")  # = the adjusted 2007-09-07 close in the file
    assert nvda.mark == bars["2007-09-10"]  # 50.7900015 x 2/3 = 33.860001
    assert state.positions["ORCL"].qty == D(200)
    assert state.cash == cash_before + D("10.00")  # ORCL 200 x 0.05; NVDA has no fraction
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        order = uow.orders.get(account, resting)
    assert order is not None
    assert (order.qty, order.limit_price) == (D(75), D(32))
    _no_drift(api, account)


def _closes(path: Path) -> dict[str, Decimal]:
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return {row.split(",")[0]: D(row.split(",")[4]) for row in lines if row}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("dividend,ORCL,2009-04-06,,0.05,,,\n", "line 1: the header must be"),
        (HEADER + "bonus,ORCL,2009-04-06,,0.05,,,\n", "line 2: type 'bonus' is not one of"),
        (HEADER + "dividend,orcl,2009-04-06,,0.05,,,\n", "line 2: symbol 'orcl'"),
        (HEADER + "dividend,ORCL,2009-13-06,,0.05,,,\n", "line 2: ex_date '2009-13-06' is not a date"),
        (
            HEADER + "dividend,ORCL,2009-04-06,2009-04-01,0.05,,,\n",
            "line 2: payable_date 2009-04-01 is before",
        ),
        (HEADER + "dividend,ORCL,2009-04-06,,,,,\n", "line 2: a dividend needs cash"),
        (HEADER + "dividend,ORCL,2009-04-06,,-0.05,,,\n", "line 2: cash must be a positive number"),
        (HEADER + "dividend,ORCL,2009-04-06,,abc,,,\n", "line 2: cash 'abc' is not a number"),
        (HEADER + "dividend,ORCL,2009-04-06,,0.05,1,2,\n", "line 2: a dividend takes no new_rate, old_rate"),
        (HEADER + "split,NVDA,2007-09-11,,,2,,\n", "line 2: a split needs new_rate"),
        (HEADER + "split,NVDA,2007-09-11,,,2,2,\n", "line 2: a split of 2 into 2 changes nothing"),
        (HEADER + "name_change,FB,2022-06-09,,,,,FB\n", "line 2: new_symbol 'FB' is not a new"),
        (HEADER + "split,NVDA,2007-09-11,,,2,3\n", "line 2: 7 fields, expected 8"),
        (
            HEADER + "# a comment\nsplit,NVDA,2007-09-11,,,2,3,\nsplit,NVDA,2007-09-11,,,2,3,\n",
            "line 4: the same",
        ),
        ("# only a comment\n", "no header"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line(body: str, message: str) -> None:
    with pytest.raises(CorporateActionFileError, match=re.escape(message)):
        parse_corporate_actions(body)


def test_an_import_stores_all_or_nothing_and_a_reimport_adds_nothing(api: Api) -> None:
    good = HEADER + "split,NVDA,2007-09-11,,,2,3,\ndividend,ORCL,2009-04-06,,0.05,,,\n"
    with pytest.raises(CorporateActionFileError, match="line 4"):
        import_corporate_actions(api.ctx, good + "split,YHOO,2004-05-12,,,1,1,\n")
    assert list_corporate_actions(api.ctx) == []
    assert import_corporate_actions(api.ctx, good) == ImportResult(read=2, stored=2)
    assert import_corporate_actions(api.ctx, good) == ImportResult(read=2, stored=0)
    with pytest.raises(CorporateActionConflict):
        import_corporate_actions(api.ctx, HEADER + "dividend,ORCL,2009-04-06,,0.06,,,\n")
    shipped = (DATA / "corporate-actions.csv").read_text(encoding="utf-8")
    assert import_corporate_actions(api.ctx, shipped) == ImportResult(read=23, stored=21)


def test_the_job_is_the_service_and_a_rerun_changes_nothing(api: Api) -> None:
    api.quote("NVDA", "66", "66")
    account = _account(api, "job")
    _fill(api, account, "NVDA", Side.BUY, "100", "60")
    import_corporate_actions(api.ctx, HEADER + "split,NVDA,2007-09-11,,,2,3,\n")
    assert len(corporate_actions_job(api.ctx, date(2007, 9, 11))) == 1
    state = accounts.get_state(api.ctx.engine, account)
    assert corporate_actions_job(api.ctx, date(2007, 9, 11)) == []
    assert corporate_actions_job(api.ctx, date(2007, 9, 12)) == []
    assert accounts.get_state(api.ctx.engine, account) == state
    assert (state.positions["NVDA"].qty, state.positions["NVDA"].cost) == (D(150), D(6000))


def test_actions_fetched_from_alpaca_are_stored_once_with_the_csv_ones(api: Api) -> None:
    page = {
        "corporate_actions": {
            "forward_splits": [{"symbol": "NVDA", "old_rate": 2, "new_rate": 3, "ex_date": "2007-09-11"}],
            "cash_dividends": [{"symbol": "ORCL", "rate": "0.05", "ex_date": "2009-04-06"}],
        },
        "next_page_token": None,
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=json.dumps(page).encode()))
    client = AlpacaDataClient(
        AlpacaCredentials(SecretStr("PKTEST"), SecretStr("secret")), http=httpx.Client(transport=transport)
    )
    import_corporate_actions(api.ctx, HEADER + "split,NVDA,2007-09-11,,,2,3,\n")

    result = fetch_corporate_actions(
        api.ctx, client, ["NVDA", "ORCL"], start=date(2007, 1, 1), end=date(2009, 12, 31)
    )

    assert result == ImportResult(read=2, stored=1)
    assert {(a.symbol, a.source) for a in list_corporate_actions(api.ctx)} == {
        ("NVDA", "csv"),
        ("ORCL", "alpaca"),
    }


def test_a_run_that_stopped_half_way_resumes_without_repeating(api: Api) -> None:
    """One transaction per account: accounts a killed run reached keep their result, the rest
    are applied by the rerun, none twice."""
    api.quote("ORCL", "19", "19.3")
    first = _account(api, "first")
    second = _account(api, "second")
    for account in (first, second):
        _fill(api, account, "ORCL", Side.BUY, "100", "19.29")
    import_corporate_actions(api.ctx, HEADER + "dividend,ORCL,2009-04-06,,0.05,,,\n")
    actions = actions_on(api.ctx, date(2009, 4, 6))
    apply_to_account(api.ctx, first, actions)  # the killed run got this far
    reached = accounts.get_state(api.ctx.engine, first)

    rerun = run_corporate_actions(api.ctx, date(2009, 4, 6))

    assert [a.account_id for a in rerun] == [second]
    assert accounts.get_state(api.ctx.engine, first) == reached
    assert accounts.get_state(api.ctx.engine, second).cash == reached.cash


def test_a_refused_account_is_left_as_it_was_and_the_others_go_on(api: Api) -> None:
    api.quote("FB", "100", "100")
    api.quote("META", "100", "100")
    both = _account(api, "both")
    only_fb = _account(api, "only-fb")
    for account in (both, only_fb):
        _fill(api, account, "FB", Side.BUY, "10", "100")
    _fill(api, both, "META", Side.BUY, "1", "100")
    import_corporate_actions(api.ctx, HEADER + "name_change,FB,2022-06-09,,,,,META\n")
    before = accounts.get_state(api.ctx.engine, both)

    applied = run_corporate_actions(api.ctx, date(2022, 6, 9))

    assert [a.account_id for a in applied] == [only_fb]
    assert accounts.get_state(api.ctx.engine, both) == before


_examples = iter(range(10_000))


def _letters(n: int) -> str:
    return "".join(chr(ord("A") + int(d)) for d in f"{n:04d}")  # a fresh symbol per example: QAAAB…


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    books=st.lists(st.integers(min_value=-300, max_value=300).filter(bool), min_size=1, max_size=3),
    action=st.one_of(
        st.tuples(st.just("dividend"), st.decimals(min_value=D("0.01"), max_value=D("2"), places=2)),
        st.tuples(st.just("split"), st.sampled_from([(1, 2), (2, 3), (1, 4), (10, 1), (3, 1)])),
    ),
    whole=st.booleans(),
    reached=st.integers(min_value=0, max_value=3),
)
def test_a_killed_run_then_a_rerun_ends_as_one_clean_run_and_a_third_changes_nothing(
    api: Api, books: list[int], action: tuple[str, Decimal | tuple[int, int]], whole: bool, reached: int
) -> None:
    """Property (issue 16, acceptance 3): two identical groups of books; the first group's run is
    killed after ``reached`` accounts, then the job runs for the day: every account ends as its
    twin that saw only the clean run, and running again changes nothing."""
    n = next(_examples)
    symbol = "Q" + _letters(n)
    api.quote(symbol, "40", "40.1")
    if whole:
        _whole_shares(api, symbol)
    killed = [_account(api, f"k{n}-{i}") for i in range(len(books))]
    clean = [_account(api, f"c{n}-{i}") for i in range(len(books))]
    for group in (killed, clean):
        for account, qty in zip(group, books, strict=True):
            side = Side.BUY if qty > 0 else Side.SELL
            _fill(api, account, symbol, side, str(abs(qty)), "40.05")
    ex_date = date(2009, 4, 6)
    if action[0] == "dividend":
        row = f"dividend,{symbol},{ex_date},,{action[1]},,,\n"
    else:
        ratio = action[1]
        assert isinstance(ratio, tuple)
        old, new = ratio
        row = f"split,{symbol},{ex_date},,,{old},{new},\n"
    import_corporate_actions(api.ctx, HEADER + row)
    actions = actions_on(api.ctx, ex_date)
    for account in killed[: min(reached, len(killed))]:
        apply_to_account(api.ctx, account, actions)

    run_corporate_actions(api.ctx, ex_date)

    def figures(account: AccountId) -> tuple[object, ...]:
        state = accounts.get_state(api.ctx.engine, account)
        held = state.positions.get(symbol)
        position = None if held is None else (held.qty, held.cost, held.mark)
        return (state.cash, state.realized_pnl, position, state.seq)

    after = [figures(a) for a in killed + clean]
    assert after[: len(books)] == after[len(books) :]
    assert run_corporate_actions(api.ctx, ex_date) == []
    assert [figures(a) for a in killed + clean] == after
    for account in killed + clean:
        _no_drift(api, account)
