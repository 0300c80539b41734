"""Rule packs on prop accounts: resolve, fold fills and marks into the rule state, apply outcomes.

An account created with a ``rulePack`` stores the pack's snapshot, key and fingerprint (immutable,
like its policy). Once the account is started its rule state is a projection (``rule_states``)
updated in the same transaction as each fill and each mark, by :func:`fold`; the pure evaluation
in :mod:`propdesk.risk` then says what the service must do (:func:`apply_required_action`):

* ``liquidate`` (a hard breach): close everything at fresh quotes and record outcome ``failed``;
* ``lock_day`` (a soft breach): open positions are closed at fresh quotes, the state holds the
  lock and ``locked_until`` is stored; the pre-trade rule gates refuse new exposure until the
  next session; ``flatten`` (inside the flat-by window) closes positions the same way;
* ``complete`` (every objective met): status ``completed`` and outcome ``passed``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from propdesk.accounting.events import Event, FillApplied, FillVoided
from propdesk.accounting.kernel import ChangeStatus, CommandRejected, RecordIncident, StartTradingDay, handle
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.risk.gates import OrderIntent, RuleGateReport, RuleGateResult, check_rule_gates
from propdesk.risk.rules.evaluate import evaluate
from propdesk.risk.rules.fold import advance_to, observe, start_rules
from propdesk.risk.rules.ledger import fold_ledger
from propdesk.risk.rules.observations import observation_from_account
from propdesk.risk.rules.pack import PackError, RulePack, pack_from_snapshot
from propdesk.risk.rules.state import RuleState
from propdesk.risk.rules.state_codec import rule_state_from_payload, rule_state_payload
from propdesk.risk.rules.status import RequiredAction, RuleStatus
from propdesk.services.accounts.closeouts import flatten, liquidation
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Invalid, NotFound
from propdesk.services.transactions import account_tx
from propdesk.store.accounts import AccountRow
from propdesk.store.uow import UnitOfWork

log = logging.getLogger(__name__)

PASSED = "passed"
FAILED = "failed"


def resolve_pack(ref: str) -> RulePack:
    """A shipped pack by ``id`` or ``id@version``; an unknown one is a 422 naming ``rulePack``."""
    from propdesk.risk.rules.packs import load_pack

    try:
        return load_pack(ref)
    except PackError as exc:
        raise Invalid("unknown_rule_pack", f"rulePack: {exc}", {"field": "rulePack"}) from None


def pack_of(account: AccountRow) -> RulePack | None:
    """The pack snapshotted on the account (checked against its fingerprint), or None."""
    if account.rule_pack is None:
        return None
    return pack_from_snapshot(dict(account.rule_pack), fingerprint=account.rule_pack_fingerprint)


def load_state(uow: UnitOfWork, account: AccountRow, pack: RulePack, at: datetime) -> RuleState:
    """The stored rule state, or a fresh one from the account's starting balance."""
    payload = uow.accounts.rule_state(account.id)
    if payload is None:
        return start_rules(pack, at, starting_balance=account.starting_balance)
    return rule_state_from_payload(payload)


def save_state(uow: UnitOfWork, account_id: str, state: RuleState, status: RuleStatus, at: datetime) -> None:
    uow.accounts.save_rule_state(
        account_id, rule_state_payload(state), locked_until=status.locked_until, at=at
    )


def start(uow: UnitOfWork, account: AccountRow, at: datetime) -> None:
    """Begin tracking a just-started account (no-op without a pack or if already tracked)."""
    pack = pack_of(account)
    if pack is None or uow.accounts.rule_state(account.id) is not None:
        return
    state = start_rules(pack, at, starting_balance=account.starting_balance)
    save_state(uow, account.id, state, evaluate(pack, state, at), at)


def _fills(events: list[Event] | tuple[Event, ...]) -> list[FillApplied]:
    return [e for e in events if isinstance(e, FillApplied)]


def fold(
    ctx: ServiceContext,
    uow: UnitOfWork,
    account: AccountRow,
    state: AccountState,
    events: list[Event] | tuple[Event, ...] = (),
) -> RuleStatus | None:
    """Observe ``state`` (after ``events``: each fill is observed in turn) and store the rule state."""
    pack = pack_of(account)
    if pack is None or state.status is AccountStatus.PENDING:
        return None
    now = ctx.clock()
    rules = load_state(uow, account, pack, now)
    now = max(now, rules.last_at)
    fills = _fills(events)
    if fills:
        # A decision action fills once; should ``events`` hold several fills (one instant), each
        # is observed with the final account figures and its own facts (realized PnL, quantities).
        for event in fills:
            rules = observe(pack, rules, observation_from_account(pack, state, now, fill_event=event))
    else:
        rules = observe(pack, rules, observation_from_account(pack, state, now))
    status = evaluate(pack, rules, now)
    save_state(uow, account.id, rules, status, now)
    return status


def rebuild(ctx: ServiceContext, uow: UnitOfWork, account_id: str) -> RuleStatus | None:
    """Rebuild the rule state from the ledger with :func:`~propdesk.risk.rules.ledger.fold_ledger` (inside
    the caller's locked unit of work); None for an account without a pack or not started.

    A voided fill and its void are left out of the fold, as if the fill never happened: what it
    breached is breached no more (a fold through it would replay the breach, and a day lock or a
    failed outcome is sticky). Nothing is liquidated or completed here: an operator decides.
    """
    account = uow.accounts.get(account_id)
    pack = pack_of(account)
    if pack is None:
        return None
    events = uow.accounts.load_events(account_id)
    voided = {e.fill_id for e in events if isinstance(e, FillVoided)}
    kept = [
        e
        for e in events
        if not isinstance(e, FillVoided) and not (isinstance(e, FillApplied) and e.fill.fill_id in voided)
    ]
    _, folded = fold_ledger(pack, kept, account_id=account_id)
    if folded is None:
        return None
    now = max(ctx.clock(), folded.last_at)
    folded = advance_to(pack, folded, now)
    status = evaluate(pack, folded, now)
    save_state(uow, account_id, folded, status, now)
    return status


def apply_required_action(
    ctx: ServiceContext, uow: UnitOfWork, account: AccountRow, state: AccountState, status: RuleStatus | None
) -> AccountState:
    """Liquidate on a failed evaluation, complete on a passed one; returns the account state after."""
    if status is None or state.status.is_terminal:
        return state
    now = ctx.clock()
    if status.required_action is RequiredAction.LIQUIDATE:
        uow.accounts.set_outcome(account.id, FAILED, now)
        reason = f"rule pack {status.pack_key}: {status.outcome_rule or 'hard breach'} (evaluation failed)"

        try:
            decision = liquidation(ctx, uow, state, reason)
        except CommandRejected as exc:
            log.warning("account %s failed its evaluation but cannot be liquidated: %s", account.id, exc)
            decision = handle(state, RecordIncident(at=now, kind="liquidation_blocked", message=exc.message))
        uow.accounts.save(account.id, decision.state, decision.events, recorded_at=now)
        return decision.state
    if status.required_action in (RequiredAction.LOCK_DAY, RequiredAction.FLATTEN) and state.positions:
        # A soft breach or the flat-by window: close everything, keep the account open.

        try:
            decision = flatten(ctx, uow, state)
        except CommandRejected as exc:
            log.warning("account %s must be flat (%s) but cannot be: %s", account.id, status.pack_key, exc)
            decision = handle(state, RecordIncident(at=now, kind="flatten_blocked", message=exc.message))
        uow.accounts.save(account.id, decision.state, decision.events, recorded_at=now)
        fold(ctx, uow, account, decision.state, decision.events)
        return decision.state
    if status.required_action is RequiredAction.COMPLETE and state.status is not AccountStatus.COMPLETED:
        uow.accounts.set_outcome(account.id, PASSED, now)
        reason = f"rule pack {status.pack_key}: every objective met (evaluation passed)"
        decision = handle(state, ChangeStatus(at=now, to=AccountStatus.COMPLETED, reason=reason))
        uow.accounts.save(account.id, decision.state, decision.events, recorded_at=now)
        return decision.state
    return state


def fold_and_apply(
    ctx: ServiceContext,
    uow: UnitOfWork,
    account: AccountRow,
    state: AccountState,
    events: list[Event] | tuple[Event, ...] = (),
) -> AccountState:
    """:func:`fold` then :func:`apply_required_action`, inside the caller's locked unit of work."""
    return apply_required_action(ctx, uow, account, state, fold(ctx, uow, account, state, events))


def gate(
    ctx: ServiceContext, uow: UnitOfWork, account: AccountRow, state: AccountState, order: OrderIntent
) -> RuleGateReport | None:
    """The pack's pre-trade gates for ``order`` (None for an account without a pack)."""
    pack = pack_of(account)
    if pack is None:
        return None
    now = ctx.clock()
    rules = load_state(uow, account, pack, now)
    return check_rule_gates(pack, rules, account=state, order=order, now=max(now, rules.last_at))


def gate_json(result: RuleGateResult) -> dict[str, Any]:
    """A rule gate in the shape of an execution gate (``gateResults`` of a decision action)."""

    def show(value: object) -> object:
        return value if value is None or isinstance(value, bool | str) else str(value)

    return {
        "gate": f"rule:{result.gate.value}",
        "passed": result.passed,
        "applicable": result.applicable,
        "value": show(result.value),
        "limit": show(result.limit),
        "message": result.message,
    }


def status(ctx: ServiceContext, account_id: str) -> RuleStatus:
    """The rule status now, from the stored rule state and the account as it is (nothing stored)."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        account = uow.accounts.get(account_id)
        pack = pack_of(account)
        if pack is None:
            raise NotFound("no_rule_pack", f"account {account_id} was created without a rule pack")
        state = uow.accounts.load_state(account_id)
        now = ctx.clock()
        rules = load_state(uow, account, pack, now)
    return current_status(pack, rules, state, now)


def current_status(pack: RulePack, rules: RuleState, state: AccountState, now: datetime) -> RuleStatus:
    now = max(now, rules.last_at)
    if state.status is AccountStatus.PENDING or state.status.is_terminal:
        return evaluate(pack, advance_to(pack, rules, now), now)
    return evaluate(pack, observe(pack, rules, observation_from_account(pack, state, now)), now)


def status_in(
    ctx: ServiceContext, uow: UnitOfWork, account: AccountRow, state: AccountState
) -> RuleStatus | None:
    """The rule status for a read inside ``uow`` (the decision context), or None without a pack."""
    pack = pack_of(account)
    if pack is None:
        return None
    now = ctx.clock()
    return current_status(pack, load_state(uow, account, pack, now), state, now)


def tracked_accounts(ctx: ServiceContext) -> list[str]:
    """Ids of started, not yet ended accounts whose rule state is tracked."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return uow.accounts.rule_tracked_ids()


def advance_account(ctx: ServiceContext, account_id: str) -> bool:
    """Roll the account's rule state over every day boundary up to now; True if a day rolled.

    The roll closes the trading day (EOD trailing floors, day records, a day lock ends) and the
    evaluation after it may pass the account (a target checked at the end of the day).
    """
    with account_tx(ctx.engine, account_id) as tx:
        uow, account = tx.uow, tx.account
        pack = pack_of(account)
        payload = uow.accounts.rule_state(account_id)
        if pack is None or payload is None:
            return False
        state = uow.accounts.load_state(account_id)
        before = rule_state_from_payload(payload)
        now = max(ctx.clock(), before.last_at)
        after = advance_to(pack, before, now)
        if after == before:
            return False
        status = evaluate(pack, after, now)
        save_state(uow, account_id, after, status, now)
        state = apply_required_action(ctx, uow, account, state, status)
        if state.status.is_open and (state.trading_day is None or state.trading_day < after.trading_day):
            # The kernel's day-start anchors (day_start_equity / balance) follow the pack's day.
            opened = handle(state, StartTradingDay(at=now, trading_day=after.trading_day))
            uow.accounts.save(account_id, opened.state, opened.events, recorded_at=now)
    return True
