"""Rule evaluation beyond the worked examples: gates, objectives, outcomes, levels, drift."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from propdesk.model.ids import AccountId
from propdesk.model.instruments import AssetClass
from propdesk.model.orders import Side
from propdesk.risk.evaluate import RequiredAction
from propdesk.risk.gates import OrderIntent, check_rule_gates
from propdesk.risk.levels import BreachLevel, Severity, breach_level, severity_for_utilization
from propdesk.risk.pack import VpinGate
from propdesk.risk.packs import load_pack
from propdesk.risk.state import (
    Bootstrap,
    Observation,
    Outcome,
    PackMismatchError,
    RuleCode,
    observe,
    start_rules,
)
from tests.risk.desk import MES, Desk

D = Decimal
MON, TUE, WED, THU, FRI = (date(2026, 3, d) for d in range(2, 7))


@pytest.mark.parametrize(
    ("cushion", "level"),
    [
        (1000, BreachLevel.SAFE),
        (999, BreachLevel.WARNING),
        (400, BreachLevel.WARNING),
        (399, BreachLevel.DANGER),
        (200, BreachLevel.DANGER),
        (199, BreachLevel.CRITICAL),
        (0, BreachLevel.CRITICAL),
        (-5, BreachLevel.CRITICAL),
    ],
)
def test_breach_level_thresholds_of_a_2000_allowance(cushion: int, level: BreachLevel) -> None:
    assert breach_level(D(cushion), D(2000)) is level


@pytest.mark.parametrize(
    ("used", "severity"),
    [
        (0, Severity.INFO),
        (799, Severity.INFO),
        (800, Severity.WARNING),
        (999, Severity.WARNING),
        (1000, Severity.CRITICAL),
    ],
)
def test_rule_severity_thresholds(used: int, severity: Severity) -> None:
    assert severity_for_utilization(D(used), D(1000)) is severity


def order(symbol: str, side: Side, qty: int, asset_class: AssetClass = AssetClass.FUTURE) -> OrderIntent:
    return OrderIntent(symbol, asset_class, side, D(qty))


def test_max_contracts_gate_counts_micros_by_the_packs_ratio_and_never_blocks_reducing() -> None:
    topstep = Desk.open("topstep-50k-combine", MON)  # micro = 1 lot, 5 lots
    topstep.buy(topstep.at(MON, "09:00"), 4, 5000, instrument=MES)
    at = topstep.at(MON, "09:05")
    ok = check_rule_gates(
        topstep.pack, topstep.rules, account=topstep.account, order=order("MES", Side.BUY, 1), now=at
    )
    too_many = check_rule_gates(
        topstep.pack, topstep.rules, account=topstep.account, order=order("ES", Side.BUY, 2), now=at
    )
    assert ok.passed
    assert not too_many.passed
    failure = too_many.failures[0]
    assert (failure.gate, failure.value, failure.limit) == (RuleCode.MAX_CONTRACTS, D(6), 5)
    reduce = check_rule_gates(
        topstep.pack, topstep.rules, account=topstep.account, order=order("MES", Side.SELL, 3), now=at
    )
    assert reduce.passed
    assert not reduce.adds_exposure

    apex = Desk.open("apex-intraday-50k", MON)  # 10 micros = 1 contract, 10 contracts
    apex.buy(apex.at(MON, "09:00"), 90, 5000, instrument=MES)
    fits = check_rule_gates(
        apex.pack, apex.rules, account=apex.account, order=order("ES", Side.BUY, 1), now=at
    )
    assert fits.passed
    apex.buy(apex.at(MON, "09:01"), 5, 5000, instrument=MES)
    over = check_rule_gates(
        apex.pack, apex.rules, account=apex.account, order=order("ES", Side.BUY, 1), now=at
    )
    assert [(f.gate, f.value) for f in over.failures] == [(RuleCode.MAX_CONTRACTS, D("10.5"))]


def test_locked_failed_and_flat_by_windows_block_new_exposure_only() -> None:
    desk = Desk.open("topstep-50k-combine", MON)
    desk.buy(desk.at(MON, "09:00"), 1, 5000).mark(desk.at(MON, "09:10"), 4980)  # −1,000: day locked
    at = desk.at(MON, "09:15")
    add = check_rule_gates(
        desk.pack, desk.rules, account=desk.account, order=order("ES", Side.BUY, 1), now=at
    )
    assert [f.gate for f in add.failures] == [RuleCode.DAY_LOCKED]
    close = check_rule_gates(
        desk.pack, desk.rules, account=desk.account, order=order("ES", Side.SELL, 1), now=at
    )
    assert close.passed

    late = Desk.open("topstep-50k-combine", MON)
    in_window = late.at(MON, "15:30")
    gate = check_rule_gates(
        late.pack, late.rules, account=late.account, order=order("ES", Side.BUY, 1), now=in_window
    )
    assert [f.gate for f in gate.failures] == [RuleCode.FLAT_BY]
    after_boundary = late.at(MON, "17:30")  # Tuesday's session has begun
    gate = check_rule_gates(
        late.pack, late.rules, account=late.account, order=order("ES", Side.BUY, 1), now=after_boundary
    )
    assert gate.passed

    holding = Desk.open("topstep-50k-combine", MON)
    holding.buy(holding.at(MON, "15:00"), 1, 5000)
    status = holding.status(holding.at(MON, "15:11"))
    assert status.required_action is RequiredAction.FLATTEN
    assert status.check(RuleCode.FLAT_BY).severity is Severity.CRITICAL


def test_vpin_gate_blocks_at_or_above_its_percentile_and_skips_without_a_reading() -> None:
    pack = load_pack("topstep-50k-combine").model_copy(
        update={"vpin_gate": VpinGate(cdf_threshold=D("0.9")), "version": "vpin"}
    )
    desk = Desk(pack, Desk.open(pack, MON).start)
    at = desk.at(MON, "10:00")
    buy = order("ES", Side.BUY, 1)
    calm = check_rule_gates(pack, desk.rules, account=desk.account, order=buy, now=at, vpin_cdf=D("0.5"))
    toxic = check_rule_gates(pack, desk.rules, account=desk.account, order=buy, now=at, vpin_cdf=D("0.9"))
    unknown = check_rule_gates(pack, desk.rules, account=desk.account, order=buy, now=at)
    assert calm.passed
    assert [f.gate for f in toxic.failures] == [RuleCode.VPIN]
    vpin_result = next(r for r in unknown.results if r.gate is RuleCode.VPIN)
    assert unknown.passed
    assert not vpin_result.applicable


def test_ftmo_counts_a_day_only_if_a_position_was_opened_and_passes_flat_with_four_days() -> None:
    desk = Desk.open("ftmo-2step-100k", MON, "09:00")
    desk.buy(desk.at(MON, "10:00"), 1, 5000)
    desk.sell(desk.at(TUE, "10:00"), 1, 5040)  # only closes on Tuesday: Tuesday does not count
    desk.round_trip(WED, 3_000, wall="10:00", close="11:00")
    status = desk.status()
    assert status.target is not None
    assert status.target.trading_days == 2
    desk.round_trip(THU, 3_000, wall="10:00", close="11:00")
    desk.buy(desk.at(FRI, "10:00"), 1, 5000).mark(desk.at(FRI, "10:30"), 5040)  # 4th day, +2,000 open
    assert desk.outcome() is Outcome.ACTIVE  # 10,000 profit only with the open position
    assert desk.status().target.trading_days == 4  # type: ignore[union-attr]
    desk.sell(desk.at(FRI, "11:00"), 1, 5040)
    assert desk.outcome() is Outcome.PASSED
    status = desk.status()
    assert status.required_action is RequiredAction.COMPLETE
    assert not status.can_trade


def test_the5ers_needs_three_profitable_days_of_half_a_percent() -> None:
    desk = Desk.open("the5ers-high-stakes-100k", MON, "09:00")
    desk.round_trip(MON, 7_500, wall="10:00", close="11:00")
    desk.round_trip(TUE, 400, wall="10:00", close="11:00")  # below 500: not a profitable day
    assert desk.outcome() is Outcome.ACTIVE
    desk.round_trip(WED, 500, wall="10:00", close="11:00")
    assert desk.outcome() is Outcome.ACTIVE  # 2 profitable days
    desk.round_trip(THU, 600, wall="10:00", close="11:00")
    assert desk.outcome() is Outcome.PASSED


def test_audition_default_liquidates_at_half_the_starting_balance() -> None:
    desk = Desk.open("audition-default", MON)
    desk.buy(desk.at(MON, "09:00"), 10, 5000).mark(desk.at(MON, "10:00"), 4901)  # −49,500
    assert desk.outcome() is Outcome.ACTIVE
    desk.mark(desk.at(MON, "10:01"), 4900)  # −50,000: equity 50,000
    status = desk.status()
    assert status.outcome is Outcome.FAILED
    assert status.required_action is RequiredAction.LIQUIDATE
    assert status.breach_level is BreachLevel.CRITICAL
    assert status.check(RuleCode.ACCOUNT_OUTCOME).severity is Severity.BLOCKING


def test_hwm_drift_is_reported_critical() -> None:
    desk = Desk.open("mffu-rapid-50k", MON)
    obs = Observation(at=desk.at(MON, "09:00"), equity=D(50_000), balance=D(50_000), high_watermark=D(50_500))
    state = observe(desk.pack, desk.rules, obs)
    state = observe(desk.pack, state, replace(obs, at=desk.at(MON, "09:01"), high_watermark=D(50_200)))
    from propdesk.risk.evaluate import evaluate

    check = evaluate(desk.pack, state, desk.at(MON, "09:02")).check(RuleCode.HWM_DRIFT)
    assert (check.severity, check.value) == (Severity.CRITICAL, D(300))


def test_a_state_refuses_another_pack_and_out_of_order_observations() -> None:
    desk = Desk.open("mffu-rapid-50k", MON)
    with pytest.raises(PackMismatchError, match="mffu-rapid-50k@1"):
        observe(load_pack("mffu-core-50k"), desk.rules, Observation(desk.at(MON, "10:00"), D(1), D(1)))
    with pytest.raises(ValueError, match="time order"):
        observe(desk.pack, desk.rules, Observation(desk.at(MON, "07:00"), D(1), D(1)))


def test_bootstrap_starts_tracking_mid_cycle_with_a_given_floor() -> None:
    pack = load_pack("mffu-rapid-50k")
    start = Desk.open(pack, MON).start
    state = start_rules(
        pack, start, bootstrap=Bootstrap(balance=D(51_000), peak_equity=D(51_800), max_loss_floor=D(49_800))
    )
    assert state.max_loss_floor == D(49_800)
    state = observe(
        pack, state, Observation(start + timedelta(minutes=5), D(52_300), D(51_000), has_positions=True)
    )
    assert state.max_loss_floor == D(50_300)


def test_max_pnl_allowed_today_with_a_target_yardstick() -> None:
    """Target 3,000, 50% of max(target, total): with 1,000 banked today may make at most 1,500."""
    from propdesk.risk.pack import Comparison, ConsistencyDenominator, ConsistencyRule, RuleOutcome

    rule = ConsistencyRule(
        percent=D(50),
        comparison=Comparison.LE,
        denominator=ConsistencyDenominator.TARGET_OR_TOTAL,
        outcome=RuleOutcome.LOCK_DAY,
    )
    pack = load_pack("mffu-core-50k").model_copy(update={"consistency": rule, "version": "t"})
    desk = Desk(pack, Desk.open(pack, MON).start).round_trip(MON, 1_000)
    figures = desk.status(desk.at(TUE, "08:00")).consistency
    assert figures is not None
    assert figures.max_today_pnl == D(1_500)
    desk.round_trip(TUE, 1_500)
    assert not desk.rules.day_locked
    desk.round_trip(TUE, 25, wall="10:00", close="10:05")
    assert desk.rules.day_locked_by == "consistency"


def test_the_rule_state_folds_the_same_from_the_ledger() -> None:
    """Live folding and a recompute from the ledger events give the same rule state."""
    from propdesk.accounting.kernel import AdjustCash, ApplyFill, Command, MarkToPrices, Start, handle
    from propdesk.accounting.state import AccountState
    from propdesk.model.fills import Fill
    from propdesk.risk.ledger import fold_ledger
    from tests.risk.desk import ES

    pack = load_pack("topstep-50k-xfa")
    desk = Desk.open(pack, MON)
    account = AccountState(account_id=AccountId("desk"))
    events = []
    commands: list[Command] = [Start(at=desk.start, starting_cash=pack.starting_balance, leverage=D(100))]
    prices = [(MON, "09:00", Side.BUY, 5000), (MON, "10:00", Side.SELL, 5030), (TUE, "09:00", Side.BUY, 5000)]
    for number, (day, wall, side, price) in enumerate(prices):
        at = desk.at(day, wall)
        fill = Fill(f"x{number}", None, ES.spec, side, D(1), D(price), D("2.5"), at)
        commands.append(ApplyFill(at=at, fill=fill))
    commands.append(MarkToPrices(at=desk.at(TUE, "09:30"), prices={"ES": D(4990)}))
    commands.append(AdjustCash(at=desk.at(TUE, "10:00"), amount=D(-200), reason="payout 1"))
    for command in commands:
        decision = handle(account, command)
        account = decision.state
        events.extend(decision.events)
    for day, wall, side, price in prices:
        (desk.buy if side is Side.BUY else desk.sell)(desk.at(day, wall), 1, price, fee="2.5")
    desk.mark(desk.at(TUE, "09:30"), 4990).payout(desk.at(TUE, "10:00"), 200)
    folded_account, folded = fold_ledger(pack, events, account_id="desk")
    assert folded is not None
    assert folded_account.equity == desk.account.equity
    for name in ("max_loss_floor", "balance", "equity", "payouts", "days", "trading_day", "peak_equity"):
        assert getattr(folded, name) == getattr(desk.rules, name), name
    assert folded.max_loss_floor == D(50_000)  # the first payout lifted the XFA floor to the start


def test_a_stored_pack_snapshot_round_trips_and_detects_tampering() -> None:
    from propdesk.risk.pack import PackError, pack_from_snapshot, pack_snapshot

    pack = load_pack("ftmo-2step-100k")
    stored = pack_snapshot(pack)
    assert pack_from_snapshot(stored, fingerprint=pack.fingerprint) == pack
    stored["daily_loss"]["percent"] = "6"
    with pytest.raises(PackError, match="does not match its fingerprint"):
        pack_from_snapshot(stored, fingerprint=pack.fingerprint)


def test_boundaries_between_lists_each_session_start_for_eod_jobs() -> None:
    from propdesk.risk.state import clock_of

    clock = clock_of(load_pack("topstep-50k-combine"))
    start = Desk.open("topstep-50k-combine", date(2026, 3, 6)).start  # Friday 08:00 CST
    found = clock.boundaries_between(start, start + timedelta(days=4))
    assert [d.isoformat() for d, _ in found][:3] == ["2026-03-07", "2026-03-08", "2026-03-09"]
    assert [at.hour for _, at in found][:3] == [23, 23, 22]  # 17:00 CST, CST, then CDT
    assert clock.next_boundary(start) == found[0][1]


def test_the_rule_state_round_trips_through_json() -> None:
    import json

    from propdesk.risk.codec import rule_state_from_payload, rule_state_payload

    desk = Desk.open("topstep-50k-xfa", MON)
    desk.round_trip(MON, 1_000).buy(desk.at(TUE, "09:00"), 2, 5000).mark(desk.at(TUE, "09:30"), 4985)
    desk.round_trip(TUE, -1_000, wall="10:00", close="10:30")  # locks the day
    desk.payout(desk.at(WED, "09:00"), 100)
    state = desk.rules
    assert state.days
    assert state.breaches
    assert state.open_trades
    restored = rule_state_from_payload(json.loads(json.dumps(rule_state_payload(state))))
    assert restored == state
