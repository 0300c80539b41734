"""Domain objects to wire shapes (one function per shape, no logic beyond formatting)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from propdesk.accounting.positions import Position
from propdesk.accounting.state import AccountState
from propdesk.api import order_schemas as o
from propdesk.api import schemas as s
from propdesk.model.market import Quote
from propdesk.model.orders import Order
from propdesk.services.orders.evaluation import Evaluation
from propdesk.services.prop.decisions import ActionResult
from propdesk.services.prop.views import DecisionContext, Snapshot
from propdesk.store.accounts import AccountRow
from propdesk.store.audit import AuditRecord
from propdesk.store.decision_actions import DecisionActionRecord
from propdesk.store.fills import FillRecord
from propdesk.store.ledger import LedgerRow
from propdesk.store.orders import EvaluationCursor
from propdesk.store.pages import Page

PRICE_EXP = Decimal("1e-12")


def _tidy(value: Decimal) -> Decimal:
    """Derived figures (averages, ratios) cut to 12 places so JSON stays readable; exact ones pass."""
    return value if value.as_tuple().exponent >= -12 else value.quantize(PRICE_EXP)  # type: ignore[operator]


def balance(state: AccountState) -> s.BalanceOut:
    return s.BalanceOut(
        cash=state.cash,
        equity=state.equity,
        balance=state.balance,
        realized_pnl=state.realized_pnl,
        unrealized_pnl=state.unrealized_pnl,
        fees=state.fees,
        adjustments=state.adjustments,
        high_watermark=state.high_watermark,
        day_start_equity=state.day_start_equity,
        day_start_balance=state.day_start_balance,
        trading_day=state.trading_day.isoformat() if state.trading_day else None,
        reserved_for_orders=state.reserved_for_orders,
        margin_used=_tidy(state.margin_used),
        available_capital=_tidy(state.available_capital),
        buying_power=_tidy(state.buying_power),
        gross_exposure=state.gross_exposure,
        drawdown_from_start=state.drawdown_from_start,
    )


def account(row: AccountRow, state: AccountState) -> s.AccountOut:
    return s.AccountOut(
        id=row.id,
        status=state.status.value,
        mode=row.mode,
        owner_user_id=row.owner_user_id,
        clone_id=row.clone_id,
        parent_account_id=row.parent_account_id,
        currency=row.currency,
        starting_balance=row.starting_balance,
        idempotency_key=row.idempotency_key,
        policy=dict(row.policy),
        created_at=row.created_at,
        updated_at=state.updated_at or row.updated_at,
        ledger_seq=state.seq,
        balance=balance(state),
        rule_pack=row.rule_pack_key,
        outcome=row.outcome,
    )


def position(p: Position) -> s.PositionOut:
    return s.PositionOut(
        symbol=p.symbol,
        asset_class=p.instrument.asset_class.value,
        multiplier=p.instrument.multiplier,
        qty=p.qty,
        side="long" if p.qty > 0 else "short",
        avg_price=_tidy(p.avg_price),
        cost=p.cost,
        mark=p.mark,
        market_value=p.market_value,
        unrealized_pnl=p.unrealized_pnl,
        opened_at=p.opened_at,
    )


def heartbeat(snap: Snapshot) -> s.HeartbeatOut:
    beat = snap.heartbeat
    return s.HeartbeatOut(
        name="mark_to_market",
        beat_at=beat.beat_at if beat else None,
        age_seconds=snap.heartbeat_age_seconds,
        details=dict(beat.details) if beat else {},
    )


def snapshot(snap: Snapshot) -> s.SnapshotOut:
    return s.SnapshotOut(
        account=account(snap.account, snap.state),
        positions=[position(p) for _, p in sorted(snap.state.positions.items())],
        as_of=snap.as_of,
        mark_to_market=heartbeat(snap),
    )


def quote(q: Quote, now: datetime) -> s.QuoteOut:
    age = Decimal((now - q.time).total_seconds()).quantize(Decimal("0.001"))
    return s.QuoteOut(
        symbol=q.symbol, time=q.time, bid=q.bid, ask=q.ask, mid=q.mid, last=q.last, age_seconds=age
    )


def fill(record: FillRecord) -> s.FillOut:
    f = record.fill
    return s.FillOut(
        id=f.fill_id,
        order_id=f.order_id,
        symbol=f.symbol,
        asset_class=f.instrument.asset_class.value,
        side=f.side.value,
        qty=f.qty,
        price=f.price,
        fee=f.fee,
        bid=f.bid,
        ask=f.ask,
        mark=f.mark,
        slippage=f.slippage,
        time=f.time,
        voided_at=record.voided_at,
    )


def decision_context(ctx: DecisionContext) -> s.DecisionContextOut:
    now = ctx.snapshot.as_of
    h = ctx.headroom
    return s.DecisionContextOut(
        snapshot=snapshot(ctx.snapshot),
        headroom=s.HeadroomOut(
            order_notional=h.order_notional,
            gross_exposure=_tidy(h.gross_exposure),
            positions=h.positions,
            orders=h.orders,
            buying_power=_tidy(h.buying_power),
        ),
        open_orders=ctx.open_orders,
        recent_fills=[fill(f) for f in ctx.recent_fills],
        quotes={sym: (quote(q, now) if q else None) for sym, q in ctx.quotes.items()},
        rules=None if ctx.rules is None else result_json(ctx.rules),
    )


def order(o: Order, legs: Sequence[Order] = ()) -> s.OrderOut:
    return s.OrderOut(
        order_class=o.order_class,
        limit_price=o.limit_price,
        stop_price=o.stop_price,
        trail_price=o.trail_price,
        trail_percent=o.trail_percent,
        hwm=o.watermark,
        reserved_amount=o.reserved,
        parent_id=o.parent_id,
        leg_role=o.leg_role,
        replaces=o.replaces,
        replaced_by=o.replaced_by,
        expires_at=o.expires_at,
        filled_at=o.filled_at,
        canceled_at=o.canceled_at,
        expired_at=o.expired_at,
        replaced_at=o.replaced_at,
        failed_at=o.failed_at,
        voided_at=o.voided_at,
        reason=o.reason,
        legs=[order(leg) for leg in legs],
        id=o.id,
        client_order_id=o.client_order_id,
        symbol=o.symbol,
        asset_class=o.asset_class,
        side=o.side,
        type=o.type,
        time_in_force=o.time_in_force,
        status=o.status,
        qty=o.qty,
        notional=o.notional,
        filled_qty=o.filled_qty,
        filled_avg_price=o.filled_avg_price,
        created_at=o.created_at,
        updated_at=o.updated_at,
    )


def order_list(found: Sequence[Order]) -> o.OrderListOut:
    return o.OrderListOut(items=[order(o) for o in found])


def evaluation(result: Evaluation) -> o.EvaluationOut:
    return o.EvaluationOut(
        ticks=result.ticks,
        fills=result.fills,
        evaluated_through=result.evaluated_through,
        delayed=result.delayed,
    )


def evaluation_cursor(cursor: EvaluationCursor | None, *, catch_up_notice: int) -> o.EvaluationCursorOut:
    """The evaluator's cursor; an account never evaluated has no times and zero ticks."""
    if cursor is None:
        return o.EvaluationCursorOut(
            evaluated_through=None, last_run_at=None, last_run_ticks=0, total_ticks=0, delayed=False
        )
    return o.EvaluationCursorOut(
        evaluated_through=cursor.evaluated_through,
        last_run_at=cursor.last_run_at,
        last_run_ticks=cursor.last_run_ticks,
        total_ticks=cursor.total_ticks,
        delayed=cursor.last_run_ticks > catch_up_notice,
    )


def ledger_event(row: LedgerRow) -> s.LedgerEventOut:
    return s.LedgerEventOut(
        seq=row.seq,
        type=row.type,
        at=row.at,
        cash_delta=row.cash_delta,
        cash_after=row.cash_after,
        payload=dict(row.payload),
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
        recorded_at=row.recorded_at,
    )


def audit(a: AuditRecord) -> s.AuditOut:
    return s.AuditOut(
        id=a.id,
        actor=a.actor,
        action=a.action,
        reason=a.reason,
        before=dict(a.before) if a.before else None,
        after=dict(a.after) if a.after else None,
        at=a.at,
    )


def page(requested: Page, returned: int) -> s.PageOut:
    more = returned == requested.limit
    return s.PageOut(
        limit=requested.limit,
        offset=requested.offset,
        next_offset=requested.offset + returned if more else None,
    )


def decision_action(record: DecisionActionRecord, *, replayed: bool = False) -> s.DecisionActionOut:
    gates: list[dict[str, Any]] = [dict(g) for g in record.gate_results or []]
    failed = [g["gate"] for g in gates if not g.get("passed", True)]
    return s.DecisionActionOut(
        id=record.id,
        account_id=record.account_id,
        decision_run_id=record.decision_run_id,
        decision_action_id=record.decision_action_id,
        action=record.action,
        symbol=record.symbol,
        status=record.status,
        reason=failed[0] if failed else None,
        gate_results=[s.GateResultOut.model_validate(g) for g in gates],
        order_id=record.order_id,
        fill_id=record.fill_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
        review=dict(record.review) if record.review else None,
        replayed=replayed,
    )


def action_result(result: ActionResult) -> s.DecisionActionOut:
    return decision_action(result.record, replayed=result.replayed)


# --- risk results ---------------------------------------------------------------------------------

# Dicts whose keys are data (rule codes), not field names: their keys are sent as they are.
_DATA_KEYS = frozenset({"failures", "fail_probabilities"})
_SNAKE = re.compile(r"_([a-z0-9])")


def _camel(name: str) -> str:
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)


def _wire(value: Any, data: bool = False) -> Any:
    if isinstance(value, dict):
        return {
            (key if data else _camel(key)): _wire(item, data=key in _DATA_KEYS) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_wire(item) for item in value]
    return value


def result_json(result: Any) -> dict[str, Any]:
    """A risk result dataclass as camelCase JSON data (decimals as strings, ``inf``/``nan`` as null)."""
    data: dict[str, Any] = _wire(json.loads(TypeAdapter(type(result)).dump_json(result)))
    return data
