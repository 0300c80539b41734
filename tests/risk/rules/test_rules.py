"""Rule evaluation beyond the worked examples: objectives, outcomes, drift, the ledger fold, snapshots."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from propdesk.model.orders import Side
from propdesk.risk.rules.fold import observe, start_rules
from propdesk.risk.rules.levels import BreachLevel, Severity
from propdesk.risk.rules.packs import load_pack
from propdesk.risk.rules.state import Bootstrap, Observation, Outcome, PackMismatchError, RuleCode
from propdesk.risk.rules.status import RequiredAction
from tests.risk.rules.desk import Desk

D = Decimal
MON, TUE, WED, THU, FRI = (date(2026, 3, d) for d in range(2, 7))


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
    from propdesk.risk.rules.evaluate import evaluate

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
    from propdesk.risk.rules.pack_enums import Comparison, ConsistencyDenominator, RuleOutcome
    from propdesk.risk.rules.pack_sections import ConsistencyRule

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
    from propdesk.risk.rules.ledger import fold_ledger
    from tests.risk.rules.desk import ES

    pack = load_pack("topstep-50k-xfa")
    desk = Desk.open(pack, MON)
    account = AccountState(account_id="desk")
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
    from propdesk.risk.rules.pack import PackError, pack_from_snapshot, pack_snapshot

    pack = load_pack("ftmo-2step-100k")
    stored = pack_snapshot(pack)
    assert pack_from_snapshot(stored, fingerprint=pack.fingerprint) == pack
    stored["daily_loss"]["percent"] = "6"
    with pytest.raises(PackError, match="does not match its fingerprint"):
        pack_from_snapshot(stored, fingerprint=pack.fingerprint)


def test_boundaries_between_lists_each_session_start_for_eod_jobs() -> None:
    from propdesk.risk.rules.sessions import clock_of

    clock = clock_of(load_pack("topstep-50k-combine"))
    start = Desk.open("topstep-50k-combine", date(2026, 3, 6)).start  # Friday 08:00 CST
    found = clock.boundaries_between(start, start + timedelta(days=4))
    assert [d.isoformat() for d, _ in found][:3] == ["2026-03-07", "2026-03-08", "2026-03-09"]
    assert [at.hour for _, at in found][:3] == [23, 23, 22]  # 17:00 CST, CST, then CDT
    assert clock.next_boundary(start) == found[0][1]


def test_the_rule_state_round_trips_through_json() -> None:
    import json

    from propdesk.risk.rules.state_codec import rule_state_from_payload, rule_state_payload

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
