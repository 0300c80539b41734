"""AI decision actions: idempotent intake, safety gates, fills at the latest mark.

A batch is one command, so it is one transaction with the account locked:

1. duplicate ``decision_action_id`` values inside the batch are refused (nothing stored);
2. the idempotency check runs before any business check: an action already stored under
   (account, run, action id) is returned as it is, without re-running gates; the same ids with a
   different payload refuse the whole batch with a conflict;
3. each new action is recorded: ``hold`` and ``cancel`` as rejected-unsupported; otherwise the
   gates run against the latest quote; a passing action becomes a filled market order (or waits
   as ``pending_approval`` when the policy asks for manual approval).

Fills are applied through the kernel, so positions, balances and ledger move together and the
ledger rows carry the decision action's id as their correlation id.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from propdesk.accounting.events import FillApplied
from propdesk.accounting.state import AccountState
from propdesk.execution.actions import ProposedAction
from propdesk.execution.pipeline import execute_market_action
from propdesk.execution.policy.action_checks import check_action
from propdesk.execution.policy.results import CheckReport
from propdesk.model.fills import filled_market_order
from propdesk.model.ids import AccountId, DecisionActionId
from propdesk.model.instruments import AssetClass, InvalidSymbolError, parse_instrument
from propdesk.model.numbers import ZERO
from propdesk.model.orders import ActionKind, OrderStatus, OrderUpdate, Side, TimeInForce
from propdesk.model.policy import ExecutionPolicy
from propdesk.risk.gates import OrderIntent
from propdesk.services.access import ownership
from propdesk.services.access.tokens import Principal
from propdesk.services.accounts import rules
from propdesk.services.accounts.commands import policy_of
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Conflict, Disabled, Invalid, NotFound
from propdesk.services.transactions import account_tx
from propdesk.store.accounts import AccountRow
from propdesk.store.decision_actions import PENDING_APPROVAL, DecisionActionRecord
from propdesk.store.order_updates import update_row
from propdesk.store.uow import UnitOfWork

FILLED = "filled"
REJECTED = "rejected"


@dataclass(frozen=True)
class ActionRequest:
    """One proposed action as received; ``canonical`` is what idempotency compares."""

    decision_action_id: DecisionActionId
    action: ActionKind
    symbol: str | None = None
    qty: Decimal | None = None
    notional: Decimal | None = None
    side: Side | None = None
    asset_class: AssetClass | None = None
    note: str | None = None

    @property
    def canonical(self) -> dict[str, Any]:
        def num(value: Decimal | None) -> str | None:
            return None if value is None else format(value.normalize(), "f")

        return {
            "decisionActionId": self.decision_action_id,
            "action": self.action.value,
            "symbol": self.symbol.upper() if self.symbol else None,
            "qty": num(self.qty),
            "notional": num(self.notional),
            "side": self.side.value if self.side else None,
            "assetClass": self.asset_class.value if self.asset_class else None,
            "note": self.note,
        }

    @property
    def payload_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.canonical, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class ActionResult:
    record: DecisionActionRecord
    replayed: bool


def _refusal(gate: str, message: str, value: object = None) -> list[dict[str, Any]]:
    return [
        {"gate": gate, "passed": False, "applicable": True, "value": value, "limit": None, "message": message}
    ]


def submit_batch(
    ctx: ServiceContext, account_id: AccountId, run_id: str, actions: Sequence[ActionRequest]
) -> list[ActionResult]:
    """Record and execute a batch of decision actions; see the module docstring for the rules."""
    if ctx.settings.trading_disabled:
        raise Disabled(
            "trading_disabled", "trading is disabled on this server (kill switch); nothing was recorded"
        )
    if not actions:
        raise Invalid("empty_batch", "a batch needs at least one action", {"field": "actions"})
    duplicates = sorted(k for k, n in Counter(a.decision_action_id for a in actions).items() if n > 1)
    if duplicates:
        raise Invalid(
            "duplicate_action_ids",
            f"decision action ids repeat inside the batch: {', '.join(duplicates)}",
            {"field": "actions", "duplicates": duplicates},
        )
    with account_tx(ctx.engine, account_id) as tx:
        uow, account = tx.uow, tx.account
        stored = uow.decision_actions.find_many(account_id, run_id, [a.decision_action_id for a in actions])
        conflicts = [
            a.decision_action_id
            for a in actions
            if a.decision_action_id in stored and stored[a.decision_action_id].payload_hash != a.payload_hash
        ]
        if conflicts:
            raise Conflict(
                "idempotency_conflict",
                f"actions {', '.join(conflicts)} of run {run_id} were submitted before with a different payload",
                {"decisionRunId": run_id, "decisionActionIds": conflicts},
            )
        policy = policy_of(account)
        state = uow.accounts.load_state(account_id)
        results: list[ActionResult] = []
        for request in actions:
            existing = stored.get(request.decision_action_id)
            if existing is not None:
                results.append(ActionResult(existing, replayed=True))
                continue
            record, state = _process(ctx, uow, account, state, policy, run_id, request)
            results.append(ActionResult(record, replayed=False))
    return results


def _process(
    ctx: ServiceContext,
    uow: UnitOfWork,
    account: AccountRow,
    state: AccountState,
    policy: ExecutionPolicy,
    run_id: str,
    request: ActionRequest,
) -> tuple[DecisionActionRecord, AccountState]:
    now = ctx.clock()
    record = DecisionActionRecord(
        id=ctx.ids(),
        account_id=state.account_id,
        decision_run_id=run_id,
        decision_action_id=request.decision_action_id,
        action=request.action.value,
        symbol=request.symbol.upper() if request.symbol else None,
        payload=request.canonical,
        payload_hash=request.payload_hash,
        status=REJECTED,
        gate_results=None,
        order_id=None,
        fill_id=None,
        created_at=now,
        updated_at=now,
    )
    refusal = _precheck(ctx, request)
    if refusal is None and policy.manual_approval:
        report = _gate(uow, state, policy, _proposal(request), now)
        gates = [r.as_json() for r in report.results]
        status = PENDING_APPROVAL if report.passed else REJECTED
        held = _with(record, status=status, gate_results=gates)
        uow.decision_actions.insert(held)
        return held, state
    if refusal is not None:
        refused = _with(record, status=REJECTED, gate_results=refusal)
        uow.decision_actions.insert(refused)
        return refused, state
    return execute_record(ctx, uow, account, state, policy, record, request, stored=False)


def request_of(record: DecisionActionRecord) -> ActionRequest:
    """The request stored with a decision action (to execute it later, e.g. on approval)."""
    payload = record.payload

    def dec(key: str) -> Decimal | None:
        value = payload.get(key)
        return None if value is None else Decimal(value)

    return ActionRequest(
        decision_action_id=DecisionActionId(record.decision_action_id),
        action=ActionKind(payload["action"]),
        symbol=payload.get("symbol"),
        qty=dec("qty"),
        notional=dec("notional"),
        side=Side(payload["side"]) if payload.get("side") else None,
        asset_class=AssetClass(payload["assetClass"]) if payload.get("assetClass") else None,
        note=payload.get("note"),
    )


def _with(record: DecisionActionRecord, **changes: Any) -> DecisionActionRecord:
    return replace(record, **changes)


def _precheck(ctx: ServiceContext, request: ActionRequest) -> list[dict[str, Any]] | None:
    """Refusals that need no price or account figures: unsupported, kill switch, bad symbol."""
    if not request.action.is_supported:
        return _refusal(
            "unsupported_action", f"{request.action.value} is recorded but not executed", request.action.value
        )
    if ctx.settings.new_orders_disabled and request.action.adds_exposure:
        return _refusal(
            "new_orders_disabled", "new exposure is disabled on this server; reduce and close work"
        )
    if not request.symbol:
        return _refusal("invalid_symbol", f"{request.action.value} needs a symbol")
    try:
        parse_instrument(request.symbol, request.asset_class)
    except InvalidSymbolError as exc:
        return _refusal("invalid_symbol", str(exc), request.symbol)
    return None


def _proposal(request: ActionRequest) -> ProposedAction:
    assert request.symbol is not None
    instrument = parse_instrument(request.symbol, request.asset_class)
    return ProposedAction(
        request.action, instrument, qty=request.qty, notional=request.notional, side=request.side
    )


def _gate(
    uow: UnitOfWork, state: AccountState, policy: ExecutionPolicy, proposal: ProposedAction, now: datetime
) -> CheckReport:
    """Every gate for ``proposal`` against the latest quote and the account's open orders."""
    quote = uow.prices.latest_quote(proposal.symbol, at_or_before=now)
    open_orders = uow.orders.count_open(state.account_id)
    return check_action(proposal, state=state, policy=policy, quote=quote, now=now, open_orders=open_orders)


def execute_record(
    ctx: ServiceContext,
    uow: UnitOfWork,
    account: AccountRow,
    state: AccountState,
    policy: ExecutionPolicy,
    record: DecisionActionRecord,
    request: ActionRequest,
    *,
    stored: bool = True,
) -> tuple[DecisionActionRecord, AccountState]:
    """Gate, fill and book ``record`` inside the caller's locked unit of work.

    ``stored`` says whether the record is already a row (an approval) or is written here, once,
    with its outcome (a new action: one INSERT instead of an INSERT and an UPDATE).

    With a rule pack, its pre-trade gates join the execution gates (a failure rejects the action)
    and the fill is folded into the rule state, whose required action is applied at once.
    """
    now = ctx.clock()
    proposal = _proposal(request)
    quote = uow.prices.latest_quote(proposal.symbol, at_or_before=now)
    # An action awaiting approval is an open order; the one being executed does not count twice.
    open_orders = uow.orders.count_open(state.account_id, excluding_action=record.id)
    order_id, fill_id = ctx.ids(), ctx.ids()
    outcome = execute_market_action(
        proposal,
        state=state,
        policy=policy,
        quote=quote,
        now=now,
        open_orders=open_orders,
        fill_id=fill_id,
        order_id=order_id,
    )
    gates = [r.as_json() for r in outcome.report.results]
    if outcome.decision is not None and outcome.fill is not None:
        # The pack's rule gates run beside the execution gates, on the quantity that would fill.
        intent = OrderIntent(
            outcome.fill.symbol, outcome.fill.instrument.asset_class, outcome.fill.side, outcome.fill.qty
        )
        report = rules.gate(ctx, uow, account, state, intent)
        if report is not None:
            gates += [r.as_json() for r in report.results]
            if not report.passed:
                outcome = replace(outcome, decision=None, fill=None)
    if outcome.decision is None or outcome.fill is None:
        rejected = _with(record, status=REJECTED, gate_results=gates, updated_at=now)
        _settle(uow, rejected, stored)
        return rejected, state
    fill = outcome.fill
    order = filled_market_order(
        order_id=order_id,
        account_id=state.account_id,
        fill=fill,
        time_in_force=TimeInForce.IOC,
        at=now,
        notional=request.notional,
    )
    uow.orders.save(
        [order],
        known=(),
        payloads={order_id: {"source": "decision_action", "decisionActionId": record.id}},
    )
    uow.accounts.save(
        state.account_id,
        outcome.decision.state,
        outcome.decision.events,
        correlation_id=record.id,
        causation_id=order_id,
        recorded_at=now,
    )
    # The same trade updates a /v2 market order that fills at once writes: new, then fill.
    position_after = next(
        (e.position_qty_after for e in outcome.decision.events if isinstance(e, FillApplied)), None
    )
    accepted = order.changed(status=OrderStatus.NEW, filled_qty=ZERO, filled_value=ZERO, filled_at=None)
    uow.orders.record_updates(
        [
            update_row(state.account_id, OrderUpdate.NEW, accepted, now),
            update_row(state.account_id, OrderUpdate.FILL, order, now, fill, position_after),
        ]
    )
    filled = _with(
        record, status=FILLED, gate_results=gates, order_id=order_id, fill_id=fill_id, updated_at=now
    )
    _settle(uow, filled, stored)
    after = rules.fold_and_apply(ctx, uow, account, outcome.decision.state, outcome.decision.events)
    return filled, after


def _settle(uow: UnitOfWork, record: DecisionActionRecord, stored: bool) -> None:
    """Write the action's outcome: update the stored row, or insert the new one once."""
    if not stored:
        uow.decision_actions.insert(record)
        return
    assert record.updated_at is not None
    uow.decision_actions.update(
        record.id,
        status=record.status,
        at=record.updated_at,
        gate_results=record.gate_results,
        order_id=record.order_id,
        fill_id=record.fill_id,
    )


def get_action(
    ctx: ServiceContext, record_id: str, principal: Principal | None = None
) -> DecisionActionRecord:
    """The stored action; one on an account ``principal`` may not use is reported missing."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        record = uow.decision_actions.find(record_id)
        if record is not None and not ownership.visible(uow, principal, [AccountId(record.account_id)]):
            record = None
    if record is None:
        raise NotFound("decision_action_not_found", f"no decision action {record_id}")
    return record


def review(
    ctx: ServiceContext, record_id: str, *, approve: bool, actor: str, reason: str
) -> DecisionActionRecord:
    """An admin's verdict on a ``pending_approval`` action: approve executes it now, at today's price."""
    with UnitOfWork(ctx.engine) as uow:
        record = uow.decision_actions.find(record_id)
        if record is None:
            raise NotFound("decision_action_not_found", f"no decision action {record_id}")
        account = uow.lock_account(record.account_id)
        current = uow.decision_actions.find(record_id)
        assert current is not None
        if current.status != PENDING_APPROVAL:
            raise Conflict(
                "not_pending_approval",
                f"decision action {record_id} is {current.status}, not pending approval",
            )
        now = ctx.clock()
        verdict: Mapping[str, Any] = {
            "by": actor,
            "reason": reason,
            "approved": approve,
            "at": now.isoformat(),
        }
        if approve:
            uow.decision_actions.update(record_id, status=current.status, at=now, review=verdict)
            state = uow.accounts.load_state(record.account_id)
            result, _ = execute_record(
                ctx, uow, account, state, policy_of(account), current, request_of(current)
            )
            result = _with(result, review=verdict)
        else:
            uow.decision_actions.update(record_id, status=REJECTED, at=now, review=verdict)
            result = _with(current, status=REJECTED, review=verdict, updated_at=now)
        uow.audit.record(
            account_id=record.account_id,
            actor=actor,
            action="approve_action" if approve else "reject_action",
            reason=reason,
            before={"decisionActionId": record_id, "status": current.status},
            after={"decisionActionId": record_id, "status": result.status},
            at=now,
        )
        uow.commit()
    return result
