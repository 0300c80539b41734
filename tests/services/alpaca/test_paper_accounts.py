"""Paper accounts on both databases: several per user, own keys, and a reset that keeps keys and history."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.accounting.events import AccountReset, ReservationReleased
from propdesk.accounting.state import AccountStatus
from propdesk.execution.order_book import OrderRequest, StopLoss, TakeProfit
from propdesk.model.instruments import AssetClass
from propdesk.model.orders import OrderClass, OrderStatus, OrderType, Side, TimeInForce
from propdesk.risk.rules.ledger import fold_ledger
from propdesk.risk.rules.packs import load_pack
from propdesk.risk.rules.state_codec import rule_state_from_payload
from propdesk.services.access import api_keys
from propdesk.services.accounts import lifecycle, rules
from propdesk.services.accounts.commands import get_state, policy_of, recompute
from propdesk.services.alpaca import paper_accounts
from propdesk.services.errors import Conflict, Invalid
from propdesk.services.orders import commands as orders
from propdesk.services.prop import marking
from propdesk.store.pages import Page
from propdesk.store.tables import accounts, admin_audit_log, users
from propdesk.store.uow import UnitOfWork
from tests.api.conftest import Api, build_api

D = Decimal


@pytest.fixture
def api(engine: Engine) -> Api:
    return build_api(engine)


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def market(coid: str, symbol: str, side: Side, qty: str) -> OrderRequest:
    return OrderRequest(client_order_id=coid, symbol=symbol, side=side, qty=D(qty))


def limit(coid: str, price: str, qty: str = "10", **changes: object) -> OrderRequest:
    fields: dict[str, object] = {
        "client_order_id": coid,
        "symbol": "AAPL",
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "qty": D(qty),
        "limit_price": D(price),
        "time_in_force": TimeInForce.GTC,
        **changes,
    }
    return OrderRequest(**fields)  # type: ignore[arg-type]


def test_one_user_owns_several_paper_accounts_each_with_its_own_keys(api: Api) -> None:
    first = paper_accounts.create_paper_account(api.ctx, owner_user_id="alice", user_name="Alice A.")
    second = paper_accounts.create_paper_account(api.ctx, owner_user_id="alice", starting_cash=D("25000.50"))
    assert (first.status, first.starting_cash, first.currency, first.preset) == (
        AccountStatus.ACTIVE,
        D(100000),
        "USD",
        "paper",
    )
    assert second.starting_cash == get_state(api.ctx.engine, second.account_id).cash == D("25000.50")
    assert count(api.ctx.engine, users) == 1
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        assert uow.users.get("alice").name == "Alice A."
    listed = paper_accounts.list_accounts(api.ctx, "alice")
    assert [(a.id, a.equity, a.mode) for a in listed] == [
        (first.account_id, D(100000), "paper"),
        (second.account_id, D("25000.50"), "paper"),
    ]
    assert paper_accounts.list_accounts(api.ctx, "bob") == []

    one = api_keys.create_key(api.ctx.engine, first.account_id, clock=api.clock)
    two = api_keys.create_key(api.ctx.engine, second.account_id, clock=api.clock)
    principal_one = api_keys.authenticate_key(api.ctx.engine, one.key_id, one.secret_key)
    principal_two = api_keys.authenticate_key(api.ctx.engine, two.key_id, two.secret_key)
    assert principal_one is not None
    assert principal_two is not None
    assert (principal_one.account_id, principal_two.account_id) == (first.account_id, second.account_id)
    # A secret of one account's pair does not open the other's.
    assert api_keys.authenticate_key(api.ctx.engine, one.key_id, two.secret_key) is None


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"preset": "no-such-preset"}, "unknown_preset"),
        ({"starting_cash": D(0)}, "invalid_amount"),
        ({"starting_cash": D(-5)}, "invalid_amount"),
        ({"starting_cash": D("NaN")}, "invalid_amount"),
        ({"starting_cash": D("1e15")}, "invalid_amount"),
    ],
)
def test_bad_input_creates_no_user_and_no_account(api: Api, changes: dict[str, object], code: str) -> None:
    with pytest.raises(Invalid) as refused:
        paper_accounts.create_paper_account(api.ctx, owner_user_id="carol", **changes)  # type: ignore[arg-type]
    assert refused.value.code == code
    assert (count(api.ctx.engine, users), count(api.ctx.engine, accounts)) == (0, 0)


def busy_account(api: Api) -> tuple[str, api_keys.KeyPair]:
    """A paper account with a long, a short, a resting limit and a bracket whose exits are held."""
    account_id = paper_accounts.create_paper_account(api.ctx).account_id
    keys = api_keys.create_key(api.ctx.engine, account_id, clock=api.clock)
    api.quote("AAPL", "100.00", "100.02")
    api.quote("MSFT", "400.00", "400.10")
    orders.submit_order(api.ctx, account_id, market("buy", "AAPL", Side.BUY, "10"))
    orders.submit_order(api.ctx, account_id, market("short", "MSFT", Side.SELL, "5"))
    orders.submit_order(api.ctx, account_id, limit("rest", "90"))
    bracket = limit(
        "bracket",
        "80",
        qty="3",
        order_class=OrderClass.BRACKET,
        take_profit=TakeProfit(limit_price=D(120)),
        stop_loss=StopLoss(stop_price=D(70)),
    )
    orders.submit_order(api.ctx, account_id, bracket)
    api.quote("AAPL", "104.00", "104.04")
    api.quote("MSFT", "395.00", "395.05")
    return account_id, keys


def test_reset_cancels_archives_and_restarts_with_keys_and_history_kept(api: Api) -> None:
    account_id, keys = busy_account(api)
    before = get_state(api.ctx.engine, account_id)
    # 100,000 - 10 × 100.02 + 5 × 400.00 = 100,999.80
    assert before.cash == D("100999.80")
    assert set(before.positions) == {"AAPL", "MSFT"}
    assert before.reserved_for_orders > 0
    open_before = orders.list_orders(api.ctx, account_id, status="open")
    assert len(open_before) == 4  # the resting limit, the bracket entry and its two held exits
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        ledger_before = uow.accounts.ledger(account_id)

    done = paper_accounts.reset_account(api.ctx, account_id, actor=keys.key_id)

    state = get_state(api.ctx.engine, account_id)
    assert state == done.state
    assert state.cash == state.equity == state.starting_cash == D(100000)
    assert not state.positions
    assert state.reserved_for_orders == 0
    assert (state.realized_pnl, state.fees, state.adjustments) == (D(0),) * 3
    assert state.status is AccountStatus.ACTIVE
    assert recompute(api.ctx.engine, account_id) == {}
    assert sorted(done.archived_symbols) == ["AAPL", "MSFT"]
    assert len(done.canceled_order_ids) == 4
    assert orders.list_orders(api.ctx, account_id, status="open") == []
    for order, _ in open_before:
        stored, _ = orders.get_order(api.ctx, account_id, order.id)
        assert stored.status is OrderStatus.CANCELED
    # The same pair still authenticates.
    principal = api_keys.authenticate_key(api.ctx.engine, keys.key_id, keys.secret_key)
    assert principal is not None
    assert principal.account_id == account_id

    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        ledger = uow.accounts.ledger(account_id)
        updates = uow.orders.updates_after(account_id)
        audit = uow.audit.page(account_id, Page(10, 0))
        fills = uow.fills.page(account_id, Page(10, 0))
    # History stays: the old ledger is a prefix of the new one, which ends with the reset.
    assert ledger[: len(ledger_before)] == ledger_before
    added = [row.to_event() for row in ledger[len(ledger_before) :]]
    # No closing fills (a reset needs no quote): the positions are archived in the reset event.
    assert [type(e) for e in added] == [ReservationReleased] * 2 + [AccountReset]
    reset = added[-1]
    assert isinstance(reset, AccountReset)
    assert reset.archived == (before.positions["AAPL"], before.positions["MSFT"])
    assert [(p.symbol, p.qty, p.cost) for p in reset.archived] == [
        ("AAPL", D(10), D("1000.20")),
        ("MSFT", D(-5), D("-2000.00")),
    ]
    # Cash 100,999.80 is set to 100,000.
    assert reset.cash_delta == D("-999.80")
    assert ledger[-1].cash_after == D(100000)
    assert sorted(u.event.value for u in updates).count("canceled") == 4
    assert len(fills) == 2  # the two opening fills only
    (row,) = audit
    assert (row.actor, row.action, row.reason) == (keys.key_id, "reset", "account reset")
    assert row.before is not None
    assert row.after is not None
    assert row.before["cash"] == "100999.80"
    assert row.before["positions"] == {"AAPL": "10", "MSFT": "-5"}
    assert D(row.after["cash"]) == D(row.after["equity"]) == D(100000)
    assert row.after["positions"] == {}
    assert row.after["startingCash"] == "100000"
    assert [(p["symbol"], p["qty"]) for p in row.after["archivedPositions"]] == [
        ("AAPL", "10"),
        ("MSFT", "-5"),
    ]
    assert len(row.after["canceledOrders"]) == 4

    # The account trades on from its fresh balance.
    again = orders.submit_order(api.ctx, account_id, market("after", "AAPL", Side.BUY, "1")).order
    assert again.status is OrderStatus.FILLED
    assert get_state(api.ctx.engine, account_id).cash == D("99895.96")
    assert recompute(api.ctx.engine, account_id) == {}


def test_reset_to_an_arbitrary_amount_becomes_the_starting_balance(api: Api) -> None:
    account_id = paper_accounts.create_paper_account(api.ctx).account_id
    done = paper_accounts.reset_account(api.ctx, account_id, actor="ops", starting_cash=D("5000.25"))
    assert done.starting_cash == D("5000.25")
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        row = uow.accounts.get(account_id)
    assert row.starting_balance == policy_of(row).starting_balance == D("5000.25")
    assert get_state(api.ctx.engine, account_id).starting_cash == D("5000.25")
    # Another reset without an amount keeps the new starting balance.
    assert paper_accounts.reset_account(api.ctx, account_id, actor="ops").state.cash == D("5000.25")
    assert recompute(api.ctx.engine, account_id) == {}
    with pytest.raises(Invalid) as refused:
        paper_accounts.reset_account(api.ctx, account_id, actor="ops", starting_cash=D(0))
    assert refused.value.code == "invalid_amount"


def test_a_reset_needs_no_quote(api: Api) -> None:
    """Issue 14 (hole 4): stale or missing quotes used to refuse the reset (422 price_missing)."""
    account_id, _ = busy_account(api)
    api.clock.advance(3600)  # both quotes are now older than the paper preset's 60 s
    done = paper_accounts.reset_account(api.ctx, account_id, actor="ops")
    state = get_state(api.ctx.engine, account_id)
    assert (state.cash, state.equity, dict(state.positions)) == (D(100000), D(100000), {})
    assert sorted(done.archived_symbols) == ["AAPL", "MSFT"]
    assert orders.list_orders(api.ctx, account_id, status="open") == []
    assert count(api.ctx.engine, admin_audit_log) == 1
    assert recompute(api.ctx.engine, account_id) == {}


def test_ended_accounts_reset_and_pending_ones_are_refused(api: Api) -> None:
    account_id = paper_accounts.create_paper_account(api.ctx, starting_cash=D(1000)).account_id
    lifecycle.liquidate(api.ctx, account_id, "test")
    assert get_state(api.ctx.engine, account_id).status is AccountStatus.LIQUIDATED
    done = paper_accounts.reset_account(api.ctx, account_id, actor="ops")
    assert done.state.status is AccountStatus.ACTIVE
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        assert uow.accounts.get(account_id).status is AccountStatus.ACTIVE

    pending = lifecycle.create_account(api.ctx, lifecycle.NewAccount(preset="paper"))
    with pytest.raises(Conflict) as refused:
        paper_accounts.reset_account(api.ctx, pending.id, actor="ops")
    assert refused.value.code == "account_not_started"


def test_a_locked_or_failed_prop_evaluation_resets_to_a_fresh_evaluation(api: Api) -> None:
    row = lifecycle.create_account(
        api.ctx,
        lifecycle.NewAccount(
            rule_pack="topstep-50k-combine",
            overrides={"maxOrderNotional": "1000000", "maxPositionEquityRatio": "10", "feeBps": "0"},
        ),
    )
    lifecycle.start(api.ctx, row.id)
    api.quote("MES", "5000", "5000")
    buy = OrderRequest(
        client_order_id="m", symbol="MES", side=Side.BUY, qty=D(2), asset_class=AssetClass.FUTURE
    )
    assert orders.submit_order(api.ctx, row.id, buy).order.status is OrderStatus.FILLED
    # 2 MES × $5 × 100 points = $1,000: Topstep's daily loss limit locks the day (and flattens).
    api.quote("MES", "4900", "4900")
    marking.mark_account(api.ctx, row.id, force=True)
    locked = rules.status(api.ctx, row.id)
    assert (locked.day_locked, locked.can_trade, locked.balance) == (True, False, D(49000))

    paper_accounts.reset_account(api.ctx, row.id, actor="ops", reason="reset bought")
    fresh = rules.status(api.ctx, row.id)
    assert (fresh.day_locked, fresh.can_trade, fresh.locked_until) == (False, True, None)
    assert (fresh.balance, fresh.starting_balance, fresh.breaches) == (D(50000), D(50000), ())
    assert recompute(api.ctx.engine, row.id) == {}
    # Folding the ledger (the rule-state recompute) restarts the rules at the reset too.
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        events = [r.to_event() for r in uow.accounts.ledger(row.id)]
        stored = rule_state_from_payload(uow.accounts.rule_state(row.id) or {})
    _, folded = fold_ledger(load_pack("topstep-50k-combine"), events, account_id=row.id)
    assert folded is not None
    for name in ("balance", "equity", "max_loss_floor", "peak_equity", "day_locked", "starting_balance"):
        assert getattr(folded, name) == getattr(stored, name), name

    # A failed evaluation (liquidated, outcome failed) starts over as a new one.
    lifecycle.liquidate(api.ctx, row.id, "max loss")
    with UnitOfWork(api.ctx.engine) as uow:
        uow.accounts.set_outcome(row.id, "failed", api.clock())
        uow.commit()
    paper_accounts.reset_account(api.ctx, row.id, actor="ops", reason="second reset bought")
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        again = uow.accounts.get(row.id)
    assert (again.status, again.outcome, again.starting_balance) == (AccountStatus.ACTIVE, None, D(50000))
    assert rules.status(api.ctx, row.id).can_trade is True
    assert recompute(api.ctx.engine, row.id) == {}
