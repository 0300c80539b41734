"""Pre-trade rule gates: what a pack refuses before an order reaches execution.

Platforms' own oversize-order blocking "is not guaranteed" (Topstep's scaling article), so the
engine enforces pack limits before the order, not only in reports. Like the execution safety
gates (:mod:`propdesk.execution.gates`), every gate is evaluated and reported with what it
measured and its limit, and reducing risk is never blocked: reduce and close orders pass every
gate here (a failed account is liquidated by the service, not by refusing the trader's exits).

Gates: the account's outcome (failed or passed accounts take no new exposure), a locked day, the
flat-by window, the contract limit of today's session (pack limit and scaling tier, micros
weighted by the pack's micro ratio), and VPIN (the caller passes VPIN's current percentile in its
own history, see :mod:`propdesk.risk.vpin`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from propdesk.accounting.state import AccountState
from propdesk.model.instruments import AssetClass
from propdesk.model.numbers import ZERO
from propdesk.model.orders import Side
from propdesk.risk.rules.fold import advance_to
from propdesk.risk.rules.observations import lots_of, micro_ratio_of, open_lots
from propdesk.risk.rules.pack import RulePack
from propdesk.risk.rules.pack_enums import GateAction
from propdesk.risk.rules.sessions import clock_of
from propdesk.risk.rules.state import Outcome, RuleCode, RuleState

GateValue = Decimal | int | str | None


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """The order a trader proposes: symbol, asset class, side and a positive quantity."""

    symbol: str
    asset_class: AssetClass
    side: Side
    qty: Decimal

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError("order qty must be positive")


@dataclass(frozen=True, slots=True)
class RuleGateResult:
    gate: RuleCode
    passed: bool
    value: GateValue
    limit: GateValue
    message: str
    applicable: bool = True


@dataclass(frozen=True, slots=True)
class RuleGateReport:
    results: tuple[RuleGateResult, ...]
    adds_exposure: bool

    @property
    def failures(self) -> list[RuleGateResult]:
        return [r for r in self.results if not r.passed]

    @property
    def passed(self) -> bool:
        return not self.failures


def _skip(gate: RuleCode, why: str) -> RuleGateResult:
    return RuleGateResult(gate, True, None, None, why, applicable=False)


def check_rule_gates(
    pack: RulePack,
    state: RuleState,
    *,
    account: AccountState,
    order: OrderIntent,
    now: datetime,
    vpin_cdf: Decimal | None = None,
) -> RuleGateReport:
    """Every pack gate's verdict on ``order`` for ``account`` at ``now``."""
    state = advance_to(pack, state, now)
    position = account.positions.get(order.symbol)
    before = position.qty if position is not None else ZERO
    after = before + (order.qty if order.side is Side.BUY else -order.qty)
    adds = abs(after) > abs(before) or before * after < 0
    results: list[RuleGateResult] = []
    not_adding = "not applicable: the order does not add exposure"

    gate = RuleCode.ACCOUNT_OUTCOME
    if not adds:
        results.append(_skip(gate, not_adding))
    elif state.outcome is Outcome.ACTIVE:
        results.append(
            RuleGateResult(gate, True, state.outcome.value, Outcome.ACTIVE.value, "evaluation active")
        )
    else:
        message = f"the evaluation is {state.outcome.value} ({state.outcome_rule} at {state.outcome_at})"
        results.append(RuleGateResult(gate, False, state.outcome.value, Outcome.ACTIVE.value, message))

    gate = RuleCode.DAY_LOCKED
    clock = clock_of(pack)
    if not adds:
        results.append(_skip(gate, not_adding))
    elif state.day_locked:
        until = clock.session_end(state.trading_day)
        message = f"day locked by {state.day_locked_by} until {until.isoformat()}"
        results.append(RuleGateResult(gate, False, state.day_locked_by, None, message))
    else:
        results.append(RuleGateResult(gate, True, None, None, "day not locked"))

    gate = RuleCode.FLAT_BY
    if pack.flat_by is None:
        results.append(_skip(gate, "not applicable: the pack has no flat-by time"))
    elif not adds:
        results.append(_skip(gate, not_adding))
    else:
        flat_at = clock.flat_by_instant(state.trading_day, pack.flat_by.time)
        end = clock.session_end(state.trading_day)
        inside = flat_at <= now < end
        message = (
            f"no new positions between {flat_at.isoformat()} and {end.isoformat()}"
            if inside
            else f"flat by {flat_at.isoformat()}"
        )
        results.append(RuleGateResult(gate, not inside, now.isoformat(), flat_at.isoformat(), message))

    gate = RuleCode.MAX_CONTRACTS
    limit = state.max_contracts_today
    if limit is None:
        results.append(_skip(gate, "not applicable: the pack has no contract limit"))
    elif not adds:
        results.append(_skip(gate, not_adding))
    else:
        ratio = micro_ratio_of(pack)
        others = open_lots({s: p for s, p in account.positions.items() if s != order.symbol}, ratio)
        lots_after = others + lots_of(order.symbol, order.asset_class, after, ratio)
        sign = ">" if lots_after > limit else "<="
        message = f"contracts after the order {lots_after} {sign} today's limit {limit}"
        results.append(RuleGateResult(gate, lots_after <= limit, lots_after, limit, message))

    gate = RuleCode.VPIN
    vg = pack.vpin_gate
    if vg is None:
        results.append(_skip(gate, "not applicable: the pack has no VPIN gate"))
    elif not adds:
        results.append(_skip(gate, not_adding))
    elif vpin_cdf is None:
        results.append(_skip(gate, "not evaluated: no VPIN reading for this symbol"))
    else:
        toxic = vpin_cdf >= vg.cdf_threshold
        blocks = toxic and vg.action is GateAction.BLOCK_NEW_EXPOSURE
        message = f"VPIN percentile {vpin_cdf} {'>=' if toxic else '<'} {vg.cdf_threshold}" + (
            " (alert only)" if toxic and not blocks else ""
        )
        results.append(RuleGateResult(gate, not blocks, vpin_cdf, vg.cdf_threshold, message))
    return RuleGateReport(tuple(results), adds)
