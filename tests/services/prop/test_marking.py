"""Mark-to-market: ledger cadence, stale quotes, blocked liquidation, per-account failures."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.model.ids import AccountId, DecisionActionId
from propdesk.model.orders import ActionKind
from propdesk.services.accounts import lifecycle
from propdesk.services.context import ServiceContext
from propdesk.services.prop import decisions, marking
from propdesk.services.prop.decisions import ActionRequest
from propdesk.settings import Settings
from propdesk.store.tables import ledger_events
from tests.api.conftest import Api, build_api


def setup(engine: Engine, **settings: object) -> tuple[Api, AccountId]:
    api = build_api(engine, Settings(**settings))  # type: ignore[arg-type]
    row = lifecycle.create_account(
        api.ctx, lifecycle.NewAccount(idempotency_key="m", overrides={"liquidation_drawdown": "0.05"})
    )
    account_id = AccountId(row.id)
    lifecycle.start(api.ctx, account_id)
    api.quote("AAPL", "100", "100")
    api.quote("MSFT", "200", "200")
    decisions.submit_batch(
        api.ctx,
        account_id,
        "r",
        [
            ActionRequest(DecisionActionId("a"), ActionKind.OPEN_LONG, "AAPL", qty=Decimal(100)),
            ActionRequest(DecisionActionId("b"), ActionKind.OPEN_LONG, "MSFT", qty=Decimal(100)),
        ],
    )
    return api, account_id


def mark_rows(engine: Engine, account_id: AccountId) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(ledger_events.c.type)
                .where(
                    ledger_events.c.account_id == account_id,
                    ledger_events.c.type.in_(["positions_marked", "incident_recorded"]),
                )
                .order_by(ledger_events.c.seq)
            ).scalars()
        )


def test_marks_are_persisted_by_interval_or_material_move(engine: Engine) -> None:
    api, account_id = setup(engine, mtm_ledger_interval_seconds=300, mtm_ledger_equity_move="0.005")
    api.quote("AAPL", "100.10", "100.10")  # +10 on ~100k equity: not material, 2 s after the fills
    first = marking.mark_account(api.ctx, account_id)
    assert first.marked == ["AAPL", "MSFT"]
    assert first.persisted is False
    assert mark_rows(engine, account_id) == []
    api.quote("AAPL", "106", "106")  # +600: 0.6% of equity, material
    assert marking.mark_account(api.ctx, account_id).persisted is True
    api.quote("AAPL", "106.01", "106.01")
    assert marking.mark_account(api.ctx, account_id).persisted is False
    api.clock.advance(300)
    api.quote("AAPL", "106.02", "106.02")
    assert marking.mark_account(api.ctx, account_id).persisted is True  # interval elapsed
    assert marking.mark_account(api.ctx, account_id, force=True).persisted is False  # nothing moved: no row
    api.quote("AAPL", "106.03", "106.03")
    assert marking.mark_account(api.ctx, account_id, force=True).persisted is True
    assert mark_rows(engine, account_id) == ["positions_marked"] * 3


def test_stale_quotes_are_not_used_for_marks(engine: Engine) -> None:
    api, account_id = setup(engine)
    api.clock.advance(61)  # both quotes are now older than max_quote_age_seconds = 60
    api.quote("AAPL", "101", "101")
    result = marking.mark_account(api.ctx, account_id, force=True)
    assert result.marked == ["AAPL"]
    assert result.unpriced == ["MSFT"]


def test_a_breach_without_fresh_prices_is_recorded_and_nothing_is_closed(engine: Engine) -> None:
    api, account_id = setup(engine)
    api.clock.advance(61)
    api.quote("AAPL", "1", "1")  # AAPL crashes; MSFT has only a stale quote
    result = marking.mark_account(api.ctx, account_id)
    assert result.liquidated is False
    assert result.persisted is True
    assert mark_rows(engine, account_id) == ["positions_marked", "incident_recorded"]
    api.quote("MSFT", "200", "200")
    sweep = marking.mark_all(api.ctx)
    assert (sweep.accounts, sweep.liquidated, sweep.failed) == (1, 1, [])


def test_one_failing_account_does_not_stop_the_sweep(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    api, account_id = setup(engine)
    other = lifecycle.create_account(api.ctx, lifecycle.NewAccount(idempotency_key="n"))
    lifecycle.start(api.ctx, AccountId(other.id))
    decisions.submit_batch(
        api.ctx,
        AccountId(other.id),
        "r",
        [ActionRequest(DecisionActionId("a"), ActionKind.OPEN_LONG, "AAPL", qty=Decimal(100))],
    )

    original = marking.mark_account

    def flaky(ctx: ServiceContext, target: str, *, force: bool = False) -> marking.MarkResult:
        if target == account_id:
            raise RuntimeError("quote feed exploded")
        return original(ctx, AccountId(target), force=force)

    monkeypatch.setattr(marking, "mark_account", flaky)
    api.quote("AAPL", "120", "120")
    sweep = marking.mark_all(api.ctx)
    assert sweep.failed == [account_id]
    assert sweep.accounts == 2
    assert sweep.persisted == 1
    assert mark_rows(engine, account_id) == ["incident_recorded"]
