"""GET /v2/account/portfolio/history and /v2/account/activities, on each database.

Portfolio history is checked twice over: against golden figures worked out by hand for a small
trading week, and against the kernel's own fold of the ledger up to each reporting time.
Activities are paged over a few hundred fills in both directions: every item exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from propdesk.accounting.events import AccountReset, Event
from propdesk.accounting.kernel import AdjustCash, ApplyFill, Command, handle, replay
from propdesk.execution.order_book.requests import OrderRequest
from propdesk.model.fills import Fill
from propdesk.model.ids import AccountId, FillId
from propdesk.model.instruments import AssetClass, InstrumentSpec
from propdesk.model.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from propdesk.services.access import api_keys
from propdesk.services.access.api_keys import KeyPair
from propdesk.services.accounts import admin, lifecycle
from propdesk.services.alpaca import paper_accounts
from propdesk.services.orders import commands as orders
from propdesk.services.prop import marking
from propdesk.store.uow import UnitOfWork
from tests.api.alpaca.conftest import Paper

NY = ZoneInfo("America/New_York")


def et(text: str) -> datetime:
    """A New York wall-clock time as aware UTC (``2026-01-07 15:00``)."""
    return datetime.fromisoformat(text).replace(tzinfo=NY).astimezone(UTC)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def midnight(day: str) -> int:
    return epoch(et(f"{day} 00:00"))


# --- a small trading week -------------------------------------------------------------------------


def trade(paper: Paper, side: Side, qty: str, symbol: str = "AAPL") -> Order:
    submitted = orders.submit_order(
        paper.ctx,
        paper.account_id,
        OrderRequest(client_order_id=str(uuid.uuid4()), symbol=symbol, side=side, qty=Decimal(qty)),
    )
    assert submitted.order.status is OrderStatus.FILLED
    return submitted.order


def mark(paper: Paper, when: str, bid: str, ask: str) -> None:
    paper.clock.current = et(when)
    paper.quote("AAPL", bid, ask)
    marking.mark_account(paper.ctx, paper.account_id, force=True)


def trading_week(paper: Paper) -> None:
    """Wed 2026-01-07 to Fri 2026-01-09 (the account opened Wed 10:00 ET with $100,000).

    Wed 10:00 buy 10 @ 100.10 (mid 100.05)   cash 98,999      equity  99,999.50
    Wed 15:00 mark 105.05                                    equity 100,049.50  <- Wed close
    Thu 11:00 mark 110.05                                    equity 100,099.50
    Thu 14:00 sell 5 @ 108.00 (mid 108.05)   cash 99,539      equity 100,079.25  <- Thu close
    Fri 10:30 mark 90.05                                     equity  99,989.25  <- Fri close
    """
    paper.quote("AAPL", "100.00", "100.10")
    trade(paper, Side.BUY, "10")
    mark(paper, "2026-01-07 15:00", "105.00", "105.10")
    mark(paper, "2026-01-08 11:00", "110.00", "110.10")
    paper.clock.current = et("2026-01-08 14:00")
    paper.quote("AAPL", "108.00", "108.10")
    trade(paper, Side.SELL, "5")
    mark(paper, "2026-01-09 10:30", "90.00", "90.10")


def kernel_equity(paper: Paper, moment: datetime, account_id: str | None = None) -> Decimal:
    """The kernel's fold of the ledger up to ``moment``."""
    account = account_id or paper.account_id
    with UnitOfWork(paper.ctx.engine, read_only=True) as uow:
        rows = uow.accounts.ledger(account)
    return replay(AccountId(account), [row.to_event() for row in rows if row.at <= moment]).equity


def history(http: httpx.Client, **params: str) -> dict[str, Any]:
    reply = http.get("/v2/account/portfolio/history", params=params)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_daily_history_is_the_equity_at_each_close_from_the_ledger(paper: Paper) -> None:
    trading_week(paper)
    paper.clock.current = et("2026-01-12 12:00")  # Monday noon
    with paper.http() as http:
        body = history(http, period="1W", timeframe="1D")
    assert body == {
        "timestamp": [midnight(d) for d in ("2026-01-07", "2026-01-08", "2026-01-09", "2026-01-12")],
        "equity": [100049.5, 100079.25, 99989.25, 99989.25],
        "profit_loss": [49.5, 79.25, -10.75, -10.75],
        "profit_loss_pct": [0.000495, 0.0007925, -0.0001075, -0.0001075],
        "base_value": 100000.0,
        "base_value_asof": "2026-01-07",  # the account did not exist at the close before: its funding
        "timeframe": "1D",
        "cashflow": {},
    }
    closes = [et("2026-01-07 16:00"), et("2026-01-08 16:00"), et("2026-01-09 16:00"), paper.clock()]
    assert body["equity"] == [float(kernel_equity(paper, moment)) for moment in closes]


def test_a_window_that_starts_after_the_account_opened_has_the_previous_close_as_base(paper: Paper) -> None:
    trading_week(paper)
    paper.clock.current = et("2026-01-12 12:00")
    with paper.http() as http:
        two_days = history(http, period="2D", timeframe="1D", end="2026-01-09T22:00:00Z")
        dated = history(http, start="2026-01-08", end="2026-01-08", timeframe="1D")
    assert two_days["timestamp"] == [midnight("2026-01-08"), midnight("2026-01-09")]
    assert two_days["equity"] == [100079.25, 99989.25]
    assert (two_days["base_value"], two_days["base_value_asof"]) == (100049.5, "2026-01-07")
    assert two_days["profit_loss"] == [29.75, -60.25]
    assert dated["timestamp"] == [midnight("2026-01-08")]
    assert dated["equity"] == [100079.25]


def test_hourly_history_restarts_pnl_each_day_from_the_previous_close(paper: Paper) -> None:
    trading_week(paper)
    with paper.http() as http:
        body = history(http, period="1D", timeframe="1H", end="2026-01-08T21:00:00Z")
        flat = history(http, period="1D", timeframe="1H", end="2026-01-08T21:00:00Z", pnl_reset="no_reset")
    hours = ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30", "16:00"]
    assert body["timestamp"] == [epoch(et(f"2026-01-08 {h}")) for h in hours]
    assert body["equity"] == [100049.5, 100049.5] + [100099.5] * 3 + [100079.25] * 3
    assert body["timeframe"] == "1H"
    assert (body["base_value"], body["base_value_asof"]) == (100049.5, "2026-01-07")
    assert body["profit_loss"] == [0.0, 0.0, 50.0, 50.0, 50.0, 29.75, 29.75, 29.75]
    for point, hour in zip(body["equity"], hours, strict=True):
        assert point == float(kernel_equity(paper, et(f"2026-01-08 {hour}")))
    assert flat["profit_loss"] == body["profit_loss"]  # one day: the same base either way


def test_intraday_over_days_resets_per_day_unless_asked_not_to(paper: Paper) -> None:
    trading_week(paper)
    paper.clock.current = et("2026-01-10 12:00")  # Saturday
    with paper.http() as http:
        reset = history(http, period="2D", timeframe="15Min")
        flat = history(http, period="2D", timeframe="15Min", pnl_reset="no_reset")
    assert len(reset["timestamp"]) == 2 * 27  # 09:30 .. 16:00 every 15 minutes, Thursday and Friday
    assert reset["timestamp"][0] == epoch(et("2026-01-08 09:30"))
    assert reset["timestamp"][-1] == epoch(et("2026-01-09 16:00"))
    thursday_close, friday_last = reset["equity"][26], reset["equity"][-1]
    assert (thursday_close, friday_last) == (100079.25, 99989.25)
    assert reset["profit_loss"][26] == 100079.25 - 100049.5  # Thursday from Wednesday's close
    assert reset["profit_loss"][-1] == 99989.25 - 100079.25  # Friday from Thursday's close
    assert flat["profit_loss"][-1] == 99989.25 - 100049.5  # the whole window from the base


def test_extended_hours_and_continuous_reporting(paper: Paper) -> None:
    trading_week(paper)
    paper.clock.current = et("2026-01-10 12:00")  # Saturday noon
    with paper.http() as http:
        extended = history(
            http,
            period="1D",
            timeframe="1H",
            intraday_reporting="extended_hours",
            end="2026-01-09T23:59:00-05:00",
        )
        legacy = history(
            http, period="1D", timeframe="1H", extended_hours="True", end="2026-01-09T23:59:00-05:00"
        )
        continuous = history(http, period="1D", timeframe="1H", intraday_reporting="continuous")
    assert extended["timestamp"] == [epoch(et(f"2026-01-09 {h:02d}:00")) for h in range(4, 21)]
    assert extended["equity"][:7] == [100079.25] * 7  # 04:00 .. 10:00, before Friday's mark
    assert extended["equity"][7:] == [99989.25] * 10
    assert legacy == extended
    # 24 hourly points back from Saturday noon; Friday's P/L from Thursday's close, Saturday's from Friday's.
    assert continuous["timestamp"] == [epoch(et("2026-01-09 12:00")) + 3600 * h for h in range(25)]
    assert set(continuous["equity"]) == {99989.25}
    friday = [
        pl
        for ts, pl in zip(continuous["timestamp"], continuous["profit_loss"], strict=True)
        if ts < midnight("2026-01-10")
    ]
    saturday = continuous["profit_loss"][len(friday) :]
    assert set(friday) == {99989.25 - 100079.25}
    assert set(saturday) == {0.0}


def test_defaults_and_points_before_the_account_existed(paper: Paper) -> None:
    with paper.http() as http:
        default = history(http)
        minute = history(http, period="1D")
        week = history(http, period="1W")
    assert default["timeframe"] == "1D"  # 1M by default: daily
    assert default["timestamp"] == [midnight("2026-01-07")]  # the account opened today
    assert default["equity"] == [100000.0]
    assert default["profit_loss_pct"] == [0.0]
    assert minute["timeframe"] == "1Min"  # under 7 days: minutes
    # From the open at the fund time 10:00 only, nothing before the account existed.
    assert minute["timestamp"][0] == epoch(et("2026-01-07 10:00"))
    assert minute["timestamp"][-1] == epoch(et("2026-01-07 10:00"))
    assert week["timeframe"] == "15Min"
    with paper.http() as http:
        forever = history(http, period="9999A")
        before = history(http, end="2025-06-30")
    assert forever["timestamp"] == [midnight("2026-01-07")]  # from the account's first day only
    assert (before["timestamp"], before["equity"], before["profit_loss_pct"]) == ([], [], [])


def test_the_cashflow_arrays_sum_deposits_journals_and_fees_per_point(paper: Paper) -> None:
    account_id, keys = fee_account(paper)
    paper.quote("AAPL", "100.00", "100.10")
    apply(paper, account_id, [AdjustCash(at=paper.clock(), amount=Decimal("250"), reason="bonus")])
    submitted = orders.submit_order(
        paper.ctx,
        AccountId(account_id),
        OrderRequest(client_order_id="c1", symbol="AAPL", side=Side.BUY, qty=Decimal(10)),
    )
    fee = fee_of(paper, account_id, submitted.order)
    paper.clock.current = et("2026-01-08 12:00")
    with paper.http(keys) as http:
        body = history(http, period="1W", timeframe="1D", cashflow_types="ALL")
        some = history(http, period="1W", timeframe="1D", cashflow_types="CSD,DIV")
        none = history(http, period="1W", timeframe="1D", cashflow_types="NONE")
        bad = http.get("/v2/account/portfolio/history", params={"cashflow_types": "CSD,XYZ"})
    assert body["cashflow"] == {"CSD": [50000.0, 0.0], "FEE": [-float(fee), 0.0], "JNLC": [250.0, 0.0]}
    assert some["cashflow"] == {"CSD": [50000.0, 0.0]}
    assert none["cashflow"] == {}
    assert bad.status_code == 422


def test_bad_history_queries_are_422(paper: Paper) -> None:
    bad = [
        {"period": "3X"},
        {"period": "0D"},
        {"period": "M"},
        {"timeframe": "2H"},
        {"period": "2M", "timeframe": "15Min"},
        {"start": "2026-01-01T00:00:00Z", "end": "2026-01-05T00:00:00Z", "period": "1W"},
        {"start": "2026-01-05T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        {"start": "not a time"},
        {"end": "9999-12-31"},
        {"intraday_reporting": "always"},
        {"pnl_reset": "hourly"},
        {"extended_hours": "maybe"},
    ]
    with paper.http() as http:
        for params in bad:
            reply = http.get("/v2/account/portfolio/history", params=params)
            assert reply.status_code == 422, params
            assert reply.json()["code"] == 40010001, params


# --- activities ------------------------------------------------------------------------------------


def apply(paper: Paper, account_id: str, commands: Sequence[Command]) -> None:
    """Run kernel commands on the account in one transaction, as a service does."""
    with UnitOfWork(paper.ctx.engine) as uow:
        uow.lock_account(account_id)
        state = uow.accounts.load_state(account_id)
        events: list[Event] = []
        for command in commands:
            decision = handle(state, command)
            state, events = decision.state, events + decision.events
        uow.accounts.save(account_id, state, events, recorded_at=paper.clock())
        uow.commit()


def fee_account(paper: Paper) -> tuple[str, KeyPair]:
    """A started paper account of $50,000 that pays 10 bps per fill."""
    row = lifecycle.create_account(
        paper.ctx,
        lifecycle.NewAccount(preset="paper", overrides={"starting_balance": "50000", "fee_bps": "10"}),
    )
    lifecycle.start(paper.ctx, AccountId(row.id))
    return row.id, api_keys.create_key(paper.ctx.engine, AccountId(row.id), clock=paper.clock)


AAPL = InstrumentSpec("AAPL", AssetClass.US_EQUITY, Decimal(1))


def fill(
    at: datetime, side: Side, qty: str, price: str, *, fee: str = "0", order_id: str | None = None
) -> Fill:
    return Fill(
        fill_id=str(uuid.uuid4()),
        order_id=order_id,
        instrument=AAPL,
        side=side,
        qty=Decimal(qty),
        price=Decimal(price),
        fee=Decimal(fee),
        time=at,
    )


def fee_of(paper: Paper, account_id: str, order: Order) -> Decimal:
    with UnitOfWork(paper.ctx.engine, read_only=True) as uow:
        return sum((record.fill.fee for record in uow.fills.for_order(account_id, order.id)), Decimal(0))


def store_order(paper: Paper, account_id: str, qty: str, status: OrderStatus) -> Order:
    now = paper.clock()
    order = Order(
        id=str(uuid.uuid4()),
        account_id=AccountId(account_id),
        client_order_id=str(uuid.uuid4()),
        symbol="AAPL",
        asset_class=AssetClass.US_EQUITY,
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        qty=Decimal(qty),
        limit_price=Decimal(100),
        created_at=now,
        updated_at=now,
        status=status,
    )
    with UnitOfWork(paper.ctx.engine) as uow:
        uow.orders.save([order], known=[], payloads={})
        uow.commit()
    return order


def activities(
    http: httpx.Client, path: str = "/v2/account/activities", **params: str
) -> list[dict[str, Any]]:
    reply = http.get(path, params=params)
    assert reply.status_code == 200, reply.text
    body: list[dict[str, Any]] = reply.json()
    return body


def all_pages(http: httpx.Client, direction: str, page_size: int, **params: str) -> list[str]:
    ids: list[str] = []
    token: str | None = None
    while True:
        query = {"direction": direction, "page_size": str(page_size), **params}
        if token is not None:
            query["page_token"] = token
        page = activities(http, **query)
        assert len(page) <= page_size
        if not page:
            return ids
        ids += [item["id"] for item in page]
        token = page[-1]["id"]


def test_paging_over_hundreds_of_fills_gives_every_activity_once_in_both_directions(paper: Paper) -> None:
    account_id, keys = fee_account(paper)
    start = paper.clock()
    fills = []
    for n in range(250):
        # Three fills share each millisecond, so ids tie on time and order by their uuid.
        at = start + timedelta(seconds=1 + n // 3, microseconds=100 * (n % 3))
        side = Side.BUY if n % 2 == 0 else Side.SELL
        fills.append(fill(at, side, "1", "10", fee="0.01" if n % 5 == 0 else "0"))
    apply(paper, account_id, [ApplyFill(at=f.time, fill=f) for f in fills])
    apply(
        paper,
        account_id,
        [AdjustCash(at=start + timedelta(seconds=40, microseconds=50), amount=Decimal(5), reason="x")],
    )
    paper.clock.advance(600)
    with paper.http(keys) as http:
        everything = activities(http, direction="asc")  # the first 100
        forward = all_pages(http, "asc", 7)
        backward = all_pages(http, "desc", 9)
        trades = all_pages(http, "desc", 100, category="trade_activity")
        cash = all_pages(http, "asc", 3, activity_types="CSD,JNLC,FEE")
    expected = 1 + 250 + 50 + 1  # the deposit, the fills, their fees, the adjustment
    assert len(forward) == len(set(forward)) == expected
    assert forward == sorted(forward)  # ids sort by time to the millisecond, then uuid
    assert backward == forward[::-1]
    assert [a["id"] for a in everything] == forward[:100]
    assert len(trades) == 250
    assert len(cash) == 52
    assert sorted(cash) == sorted(set(forward) - set(trades))
    # The fills' ids carry their fill ids, the fee ids are distinct uuids of the same millisecond.
    assert {t.split("::")[1] for t in trades} == {f.fill_id for f in fills}


def test_fill_activities_carry_cumulative_and_leaves_quantities_and_skip_voided_fills(paper: Paper) -> None:
    paper.clock.advance(60)
    filled = store_order(paper, paper.account_id, "10", OrderStatus.FILLED)
    canceled = store_order(paper, paper.account_id, "10", OrderStatus.CANCELED)
    t0 = paper.clock()
    parts = [
        fill(t0 + timedelta(seconds=1), Side.BUY, "3", "100", order_id=filled.id),
        fill(t0 + timedelta(seconds=2), Side.BUY, "3", "101", order_id=filled.id),
        fill(t0 + timedelta(seconds=3), Side.BUY, "4", "102", order_id=canceled.id),
        fill(t0 + timedelta(seconds=4), Side.BUY, "4", "103", order_id=filled.id),
        fill(t0 + timedelta(seconds=5), Side.BUY, "1", "104", order_id=canceled.id),
    ]
    apply(paper, paper.account_id, [ApplyFill(at=f.time, fill=f) for f in parts])
    paper.clock.advance(10)
    # The last fill of the canceled order is taken back: its activity goes, the others stay.
    admin.void_fill(paper.ctx, paper.account_id, FillId(parts[4].fill_id), actor="ops", reason="bad print")
    with paper.http() as http:
        fills = activities(http, "/v2/account/activities/FILL", direction="asc")
    assert [(f["qty"], f["cum_qty"], f["leaves_qty"], f["type"], f["order_status"]) for f in fills] == [
        ("3", "3", "7", "partial_fill", "partially_filled"),
        ("3", "6", "4", "partial_fill", "partially_filled"),
        ("4", "4", "6", "partial_fill", "partially_filled"),
        ("4", "10", "0", "fill", "filled"),
    ]
    first = fills[0]
    assert first == {
        "id": f"{parts[0].time:%Y%m%d%H%M%S}{parts[0].time.microsecond // 1000:03d}::{parts[0].fill_id}",
        "account_id": paper.account_id,
        "activity_type": "FILL",
        "transaction_time": parts[0].time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "type": "partial_fill",
        "price": "100",
        "qty": "3",
        "side": "buy",
        "symbol": "AAPL",
        "leaves_qty": "7",
        "cum_qty": "3",
        "order_id": filled.id,
        "order_status": "partially_filled",
    }
    assert [f["order_id"] for f in fills] == [filled.id, filled.id, canceled.id, filled.id]


def test_non_trade_activities_have_alpacas_shape(paper: Paper) -> None:
    account_id, keys = fee_account(paper)
    paper.quote("AAPL", "100.00", "100.10")
    submitted = orders.submit_order(
        paper.ctx,
        AccountId(account_id),
        OrderRequest(client_order_id="c1", symbol="AAPL", side=Side.BUY, qty=Decimal(10)),
    )
    apply(paper, account_id, [AdjustCash(at=paper.clock(), amount=Decimal("-12.5"), reason="data fee")])
    with paper.http(keys) as http:
        deposit = activities(http, "/v2/account/activities/CSD")
        journal = activities(http, "/v2/account/activities/jnlc")
        fees = activities(http, activity_types="FEE")
    assert [{k: v for k, v in a.items() if k != "id"} for a in deposit] == [
        {
            "account_id": account_id,
            "activity_type": "CSD",
            "date": "2026-01-07",
            "net_amount": "50000",
            "status": "executed",
            "description": "initial deposit: account funded with 50000 USD",
        }
    ]
    assert [(a["activity_type"], a["net_amount"], a["description"]) for a in journal] == [
        ("JNLC", "-12.5", "data fee")
    ]
    (fee,) = fees
    order = submitted.order
    charged = fee_of(paper, account_id, order)
    assert charged > 0
    assert Decimal(fee["net_amount"]) == -charged
    assert (fee["symbol"], fee["qty"], fee["activity_type"], fee["status"]) == (
        "AAPL",
        "10",
        "FEE",
        "executed",
    )
    assert order.id in fee["description"]


def test_activity_filters(paper: Paper) -> None:
    paper.quote("AAPL", "100.00", "100.10")
    trade(paper, Side.BUY, "1")  # Wed 2026-01-07
    paper.clock.current = et("2026-01-08 10:00")
    paper.quote("AAPL", "100.00", "100.10")
    trade(paper, Side.BUY, "2")  # Thu
    paper.clock.current = et("2026-01-09 10:00")
    with paper.http() as http:
        everything = activities(http)
        wednesday = activities(http, date="2026-01-07")
        thursday = activities(http, date="2026-01-08T20:00:00-05:00")
        after = activities(http, after="2026-01-08")
        until = activities(http, until="2026-01-08")
        trades = activities(http, category="trade_activity")
        others = activities(http, category="non_trade_activity")
        dividends = activities(http, "/v2/account/activities/DIV")
    assert [a["activity_type"] for a in everything] == ["FILL", "FILL", "CSD"]  # newest first
    assert [a["activity_type"] for a in wednesday] == ["FILL", "CSD"]
    assert [a.get("qty") for a in thursday] == ["2"]
    assert [a.get("qty") for a in after] == ["2"]
    assert [a["activity_type"] for a in until] == ["FILL", "CSD"]
    assert [a["qty"] for a in trades] == ["2", "1"]
    assert [a["activity_type"] for a in others] == ["CSD"]
    assert dividends == []


def test_bad_activity_queries_are_422(paper: Paper) -> None:
    bad: list[tuple[str, dict[str, str]]] = [
        ("/v2/account/activities", {"activity_types": "FILL,NOPE"}),
        ("/v2/account/activities", {"category": "trade"}),
        ("/v2/account/activities", {"category": "trade_activity", "activity_types": "FILL"}),
        ("/v2/account/activities", {"date": "2026-01-07", "after": "2026-01-06"}),
        ("/v2/account/activities", {"after": "yesterday"}),
        ("/v2/account/activities", {"direction": "up"}),
        ("/v2/account/activities", {"page_size": "0"}),
        ("/v2/account/activities", {"page_size": "101"}),
        ("/v2/account/activities", {"page_size": "ten"}),
        ("/v2/account/activities", {"page_token": "not-an-id"}),
        ("/v2/account/activities", {"page_token": "20261399000000000::abc"}),
        ("/v2/account/activities", {"page_token": "99991231235959999::abc"}),
        ("/v2/account/activities", {"after": "0001-01-01"}),
        ("/v2/account/activities/NOPE", {}),
    ]
    with paper.http() as http:
        for path, params in bad:
            reply = http.get(path, params=params)
            assert reply.status_code == 422, (path, params)
            assert reply.json()["code"] == 40010001, (path, params)


def test_keys_of_one_account_never_see_another_accounts_activities_or_history(paper: Paper) -> None:
    trading_week(paper)
    other_id, other_keys = paper.open_account(starting_cash="20000")
    with paper.http(other_keys) as http:
        theirs = activities(http, direction="asc")
        their_history = history(http, period="1W", timeframe="1D")
    with paper.http() as http:
        mine = activities(http, direction="asc")
    assert [(a["activity_type"], a["account_id"], a["net_amount"]) for a in theirs] == [
        ("CSD", other_id, "20000")
    ]
    assert {a["id"] for a in theirs}.isdisjoint({a["id"] for a in mine})
    assert [a["activity_type"] for a in mine] == ["CSD", "FILL", "FILL"]
    assert all(a["account_id"] == paper.account_id for a in mine)
    assert set(their_history["equity"]) == {20000.0}


def test_a_reset_is_a_cash_journal_and_the_history_before_it_stays(paper: Paper) -> None:
    trading_week(paper)
    paper.quote("AAPL", "90.00", "90.10")
    paper_accounts.reset_account(paper.ctx, paper.account_id, actor="test", reason="new strategy")
    paper.clock.current = et("2026-01-12 12:00")
    with paper.http() as http:
        newest = activities(http, page_size="2")
        body = history(http, period="1W", timeframe="1D")
    with UnitOfWork(paper.ctx.engine, read_only=True) as uow:
        reset = uow.accounts.ledger(paper.account_id)[-1].to_event()
    assert isinstance(reset, AccountReset)
    # The reset closes nothing (no fill, no quote needed): the 5 AAPL held are archived with it.
    top_up = newest[0]
    assert newest[1]["activity_type"] == "FILL"  # the last trade of the week, not a closing fill
    # Cash 99,539 topped up by 461 to the starting balance.
    assert (top_up["activity_type"], top_up["net_amount"]) == ("JNLC", "461")
    assert top_up["description"] == (
        "account reset to its starting balance of 100000: new strategy; positions archived: 5 AAPL"
    )
    assert body["equity"] == [100049.5, 100079.25, 100000.0, 100000.0]
    # The reset moved equity by 100,000 minus what the account was worth (its cash and the archived
    # position at its last mark); that move is not profit: P/L after it is what the trading made.
    assert [round(pl, 2) for pl in body["profit_loss"][2:]] == [
        round(100000.0 - float(reset.equity_delta) - body["base_value"], 2)
    ] * 2
