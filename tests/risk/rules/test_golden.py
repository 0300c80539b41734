"""The firms' own worked examples (prop-rules.md §1.8 and §1.1–1.6), driven through the packs.

Each test says what the trader did (fills and marks at wall-clock times, day boundaries crossed by
time passing) and reads floors and outcomes back from the rule state, so a broken fold, trail,
lock or anchor fails here; no formula is copied into a test.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from propdesk.model.instruments import future
from propdesk.risk.rules.pack import RulePack
from propdesk.risk.rules.pack_enums import Comparison, DailyAnchor, RequiredFor, RuleOutcome
from propdesk.risk.rules.pack_sections import ConsistencyRule, DailyLossRule
from propdesk.risk.rules.packs import load_pack
from propdesk.risk.rules.state import Outcome, RuleCode
from tests.risk.rules.desk import Desk

D = Decimal
MON, TUE, WED, THU, FRI = (date(2026, 3, d) for d in range(2, 7))
NEXT_MON = date(2026, 3, 9)
MNQ = future("MNQ")


def with_consistency(
    pack: RulePack, percent: str, comparison: Comparison, applies_to: RequiredFor = RequiredFor.PASS
) -> RulePack:
    rule = ConsistencyRule(
        percent=D(percent), comparison=comparison, outcome=RuleOutcome.EXTEND_TARGET, applies_to=applies_to
    )
    return pack.model_copy(update={"consistency": rule, "version": f"test-{percent}-{comparison.value}"})


def max_loss_floor(desk: Desk, day: date, wall: str) -> Decimal:
    return desk.status(desk.at(day, wall)).floor(RuleCode.MAX_LOSS).floor


def test_1_topstep_mll_trails_end_of_day_balances_and_locks_at_the_start() -> None:
    """50K: EOD balances 50,500 / 50,000 / 52,500 → MLL 48,500 / 48,500 / 50,000 (locked)."""
    desk = Desk.open("topstep-50k-combine", MON)
    desk.round_trip(MON, 500)
    assert max_loss_floor(desk, MON, "16:59") == D(48_000)  # intraday gains do not move it
    assert max_loss_floor(desk, MON, "17:00") == D(48_500)
    desk.round_trip(TUE, -500)
    assert max_loss_floor(desk, TUE, "17:00") == D(48_500)
    desk.round_trip(WED, 2_500)
    status = desk.status(desk.at(WED, "17:00"))
    floor = status.floor(RuleCode.MAX_LOSS)
    assert (floor.floor, floor.locked) == (D(50_000), True)
    desk.round_trip(THU, 1_000)  # a new balance high no longer moves a locked floor
    assert max_loss_floor(desk, THU, "17:00") == D(50_000)
    assert [d.max_loss_floor for d in desk.rules.days] == [D(48_500), D(48_500), D(50_000)]


def test_1b_topstep_open_profit_counts_for_the_breach_but_not_for_the_trail() -> None:
    desk = Desk.open("topstep-50k-combine", MON)
    desk.buy(desk.at(MON, "09:00"), 1, 5000).mark(desk.at(MON, "16:50"), 5030)  # +1,500 open at the close
    assert max_loss_floor(desk, MON, "17:05") == D(48_000)  # the EOD balance is still 50,000
    desk.mark(desk.at(TUE, "09:00"), 4960)  # −2,000 from entry: equity 48,000 touches the floor
    assert desk.outcome() is Outcome.FAILED
    assert desk.rules.outcome_rule == "max_loss"


def test_2_ftmo_1step_max_loss_trails_eod_balance_without_a_lock() -> None:
    """100K: day 1 floor 90,000; EOD 104,000 → day 2 94,000; EOD 103,000 → day 3 still 94,000."""
    desk = Desk.open("ftmo-1step-100k", MON, "09:00")
    assert max_loss_floor(desk, MON, "10:00") == D(90_000)
    desk.round_trip(MON, 2_000, wall="10:00", close="11:00")
    desk.round_trip(MON, 2_000, wall="12:00", close="13:00")
    assert max_loss_floor(desk, TUE, "00:00") == D(94_000)
    desk.round_trip(TUE, -1_000, wall="10:00", close="11:00")
    assert max_loss_floor(desk, WED, "00:00") == D(94_000)
    desk.round_trip(WED, 8_000, wall="10:00", close="11:00")  # no lock at the initial balance
    assert max_loss_floor(desk, THU, "00:30") == D(101_000)


def test_3_ftmo_2step_daily_floor_hangs_from_the_previous_midnight_balance() -> None:
    """Anchor 100,000 on day 1 → 95,000; anchor 104,000 → 99,000."""
    desk = Desk.open("ftmo-2step-100k", MON, "09:00")
    assert desk.status().floor(RuleCode.DAILY_LOSS).floor == D(95_000)
    desk.round_trip(MON, 4_000, wall="10:00", close="11:00")
    status = desk.status(desk.at(MON, "12:00"))
    assert status.floor(RuleCode.DAILY_LOSS).floor == D(95_000)  # closed profit widens today's room
    assert status.floor(RuleCode.DAILY_LOSS).cushion == D(9_000)
    assert desk.status(desk.at(TUE, "00:00")).floor(RuleCode.DAILY_LOSS).floor == D(99_000)


def test_3b_ftmo_2step_floating_loss_breaches_the_new_days_floor() -> None:
    """Balance 103,000 at midnight → day-2 floor 98,000; a −5,100 float (equity 97,900) fails."""
    desk = Desk.open("ftmo-2step-100k", MON, "09:00")
    desk.round_trip(MON, 3_000, wall="10:00", close="11:00")
    desk.buy(desk.at(TUE, "09:00"), 1, 5000).mark(desk.at(TUE, "10:00"), 4900)  # −5,000: 98,000, on the floor
    assert desk.outcome() is Outcome.FAILED
    desk2 = Desk.open("ftmo-2step-100k", MON, "09:00")
    desk2.round_trip(MON, 3_000, wall="10:00", close="11:00")
    desk2.buy(desk2.at(TUE, "09:00"), 1, 5000).mark(desk2.at(TUE, "10:00"), 4902)  # −4,900: inside
    assert desk2.outcome() is Outcome.ACTIVE
    desk2.mark(desk2.at(TUE, "11:00"), 4898)  # −5,100 → equity 97,900
    assert desk2.outcome() is Outcome.FAILED
    breach = desk2.rules.breaches[-1]
    assert (breach.rule, breach.value, breach.limit) == ("daily_loss", D(97_900), D(98_000))


def test_3c_ftmo_a_float_held_over_midnight_breaches_at_the_reset() -> None:
    """Inside day 1's floor (95,000), outside day 2's (98,000) the moment the anchor resets."""
    desk = Desk.open("ftmo-2step-100k", MON, "09:00")
    desk.round_trip(MON, 3_000, wall="10:00", close="11:00")
    desk.buy(desk.at(MON, "20:00"), 1, 5000).mark(desk.at(MON, "23:30"), 4890)  # −5,500: equity 97,500
    assert desk.outcome() is Outcome.ACTIVE
    status = desk.status(desk.at(TUE, "00:01"))
    assert status.outcome is Outcome.FAILED
    assert status.outcome_rule == "daily_loss"
    assert status.outcome_at == desk.at(TUE, "00:00")


def test_ftmo_2step_max_loss_is_static_on_equity() -> None:
    """Balance 92,000 with a floating loss of 2,001 exceeds the 90,000 limit."""
    desk = Desk.open("ftmo-2step-100k", MON, "09:00")
    desk.round_trip(MON, -4_000, wall="10:00", close="11:00")
    desk.round_trip(TUE, -4_000, wall="10:00", close="11:00")
    assert desk.rules.balance == D(92_000)
    desk.buy(desk.at(WED, "09:00"), 1, 5000).mark(desk.at(WED, "09:30"), D("4959.98"))  # −2,001
    assert desk.outcome() is Outcome.FAILED
    assert desk.rules.breaches[-1].rule == "max_loss"
    assert desk.rules.breaches[-1].value == D("89999.00")


def test_4_topstep_consistency_900_of_2800_meets_40_percent() -> None:
    pack = with_consistency(load_pack("topstep-50k-combine"), "40", Comparison.LT)
    desk = Desk(pack, Desk.open(pack, MON).start)
    for day, pnl in zip((MON, TUE, WED, THU), (900, 700, 600, 600), strict=True):
        desk.round_trip(day, pnl)
    figures = desk.status(desk.at(THU, "12:00")).consistency
    assert figures is not None
    assert (figures.best_day, figures.total) == (D(900), D(2_800))
    assert figures.ratio is not None
    assert round(figures.ratio, 3) == D("0.321")
    assert figures.compliant


def test_6_take_profit_trader_needs_more_than_4000_after_a_2000_day() -> None:
    """50%, strict: 2,000 / 3,100 = 64.5% → total must exceed 4,000 (4,001 passes)."""
    base = load_pack("topstep-50k-combine").model_copy(update={"daily_loss": None})
    pack = with_consistency(base, "50", Comparison.LT)
    desk = Desk(pack, Desk.open(pack, MON).start)
    desk.round_trip(MON, 2_000).round_trip(TUE, 1_100)
    status = desk.status(desk.at(TUE, "12:00"))
    assert status.consistency is not None
    assert not status.consistency.compliant
    assert status.consistency.required_total == D("4000.01")
    assert status.consistency.profit_still_needed == D("900.01")
    assert status.target is not None
    assert status.target.effective_target == D("4000.01")
    desk.round_trip(WED, 900)
    assert desk.status(desk.at(WED, "18:00")).outcome is Outcome.ACTIVE  # exactly 50% is not below 50%
    desk.round_trip(THU, 1)
    assert desk.status(desk.at(THU, "18:00")).outcome is Outcome.PASSED  # passes at the day's end


def test_8_topstepx_trailing_personal_dll_trails_the_days_peak() -> None:
    """$500 personal DLL trailing realized gains: peak 51,200 → threshold 50,700."""
    rule = DailyLossRule(anchor=DailyAnchor.DAY_PEAK_BALANCE, amount=D(500), outcome=RuleOutcome.LOCK_DAY)
    pack = load_pack("topstep-50k-combine").model_copy(update={"daily_loss": rule, "version": "pdll"})
    desk = Desk(pack, Desk.open(pack, MON).start)
    desk.round_trip(MON, 1_200)
    assert desk.status().floor(RuleCode.DAILY_LOSS).floor == D(50_700)
    desk.round_trip(MON, -500, wall="10:00", close="10:30")
    assert desk.rules.day_locked_by == "daily_loss"
    assert desk.outcome() is Outcome.ACTIVE  # a soft breach
    assert desk.status(desk.at(TUE, "09:00")).floor(RuleCode.DAILY_LOSS).floor == D(50_200)


def test_xfa_mll_trails_from_minus_2000_to_zero_and_jumps_to_zero_after_the_first_payout() -> None:
    """XFA EOD +800 → MLL −1,200; EOD +2,300 → $0 (locked). In nominal terms 48,800 and 50,000."""
    desk = Desk.open("topstep-50k-xfa", MON)
    desk.round_trip(MON, 800)
    assert max_loss_floor(desk, MON, "17:00") == D(48_800)
    desk.round_trip(TUE, 1_500)
    status = desk.status(desk.at(TUE, "17:00"))
    assert status.floor(RuleCode.MAX_LOSS).floor == D(50_000)
    assert status.floor(RuleCode.MAX_LOSS).locked

    early = Desk.open("topstep-50k-xfa", MON)
    early.round_trip(MON, 1_000)
    assert max_loss_floor(early, MON, "17:00") == D(49_000)
    early.payout(early.at(TUE, "08:00"), 500)
    status = early.status(early.at(TUE, "08:00"))
    assert status.floor(RuleCode.MAX_LOSS).floor == D(50_000)  # the whole remaining balance is the buffer
    assert status.effective_capital == D(500)
    assert status.payouts == 1


def test_xfa_scaling_tier_follows_the_eod_balance_from_the_next_session() -> None:
    desk = Desk.open("topstep-50k-xfa", MON)
    assert desk.rules.max_contracts_today == 2
    desk.round_trip(MON, 1_500)
    assert desk.rules.max_contracts_today == 2  # not during the day
    assert desk.status(desk.at(MON, "17:00")).scaling is not None
    assert desk.status(desk.at(TUE, "08:00")).scaling.max_contracts_today == 3  # type: ignore[union-attr]
    desk.round_trip(TUE, 500)
    scaling = desk.status(desk.at(WED, "08:00")).scaling
    assert scaling is not None
    assert (scaling.max_contracts_today, scaling.next_tier_profit) == (5, None)


def test_apex_intraday_trails_open_profit_that_was_never_banked() -> None:
    """Floor 47,500; an open +800 moves it to 48,300 even if the trade closes at +200."""
    desk = Desk.open("apex-intraday-50k", MON)
    assert desk.status().floor(RuleCode.MAX_LOSS).floor == D(47_500)
    desk.buy(desk.at(MON, "09:00"), 1, 5000).mark(desk.at(MON, "09:10"), 5016)
    desk.sell(desk.at(MON, "09:20"), 1, 5004)
    status = desk.status()
    assert (status.floor(RuleCode.MAX_LOSS).floor, status.balance) == (D(48_300), D(50_200))
    assert status.effective_capital == D(1_900)
    desk.buy(desk.at(TUE, "09:00"), 1, 5000).mark(desk.at(TUE, "09:10"), D("5013.50"))  # peak 50,875
    assert desk.status().floor(RuleCode.MAX_LOSS).floor == D(48_375)


def test_mffu_rapid_round_trip_to_flat_consumes_buffer() -> None:
    """+1,800 open, back to flat: realized 0, buffer consumed 1,800."""
    desk = Desk.open("mffu-rapid-50k", MON)
    desk.buy(desk.at(MON, "09:00"), 1, 5000).mark(desk.at(MON, "09:30"), 5036).sell(
        desk.at(MON, "10:00"), 1, 5000
    )
    status = desk.status()
    assert status.balance == D(50_000)
    assert status.floor(RuleCode.MAX_LOSS).floor == D(49_800)
    assert status.effective_capital == D(200)
    core = Desk.open("mffu-core-50k", MON)  # the EOD plan does not move on the same day
    core.buy(core.at(MON, "09:00"), 1, 5000).mark(core.at(MON, "09:30"), 5036).sell(
        core.at(MON, "10:00"), 1, 5000
    )
    assert core.status().floor(RuleCode.MAX_LOSS).floor == D(48_000)


@pytest.mark.parametrize(("close", "floor"), [(5040, D(96_900)), (4960, D(95_000))])
def test_the5ers_daily_floor_is_95_percent_of_the_higher_of_day_start_equity_and_balance(
    close: int, floor: Decimal
) -> None:
    desk = Desk.open("the5ers-high-stakes-100k", MON, "09:00")
    desk.buy(desk.at(MON, "10:00"), 1, 5000).mark(desk.at(MON, "16:30"), close)  # held over 17:00 New York
    assert desk.status(desk.at(TUE, "09:00")).floor(RuleCode.DAILY_LOSS).floor == floor


def test_fundednext_closed_profit_by_noon_widens_the_days_loss_limit_to_7000() -> None:
    desk = Desk.open("fundednext-stellar-2step-100k", MON, "08:00")
    desk.round_trip(MON, 2_000, wall="09:00", close="11:30")
    status = desk.status(desk.at(MON, "12:00"))
    assert status.floor(RuleCode.DAILY_LOSS).floor == D(95_000)
    assert status.floor(RuleCode.DAILY_LOSS).cushion == D(7_000)


def test_fundednext_futures_consistency_table() -> None:
    """40%: totals 2,000 / 3,500 / 6,000 / 8,000 / 9,500 → 100 / 57.14 / 41.67 / 31.25 ✅ / 26.32 ✅."""
    base = load_pack("apex-intraday-50k").model_copy(update={"profit_target": None, "max_loss": None})
    pack = with_consistency(base, "40", Comparison.LE, applies_to=RequiredFor.PAYOUT)
    desk = Desk(pack, Desk.open(pack, MON).start)
    seen = []
    for day, pnl in zip((MON, TUE, WED, THU, FRI), (2_000, 1_500, 2_500, 2_000, 1_500), strict=True):
        desk.round_trip(day, pnl)
        figures = desk.status().consistency
        assert figures is not None
        assert figures.ratio is not None
        seen.append((round(figures.ratio * 100, 2), figures.compliant))
    assert seen == [
        (D("100.00"), False),
        (D("57.14"), False),
        (D("41.67"), False),
        (D("31.25"), True),
        (D("26.32"), True),
    ]


def test_topstep_daily_loss_is_a_soft_breach_that_ends_with_the_session() -> None:
    desk = Desk.open("topstep-50k-combine", MON)
    desk.round_trip(MON, -1_000)
    status = desk.status()
    assert status.day_locked
    assert status.outcome is Outcome.ACTIVE
    assert status.locked_until == desk.at(MON, "17:00")
    assert status.required_action.value == "lock_day"
    assert not status.can_trade
    tuesday = desk.status(desk.at(MON, "17:00"))
    assert (tuesday.trading_day, tuesday.day_locked, tuesday.can_trade) == (TUE, False, True)


def test_sizing_from_effective_capital_example() -> None:
    """§2 (4): EOD high 51,200 → floor 49,200, cushion 2,000; 25% of it over a 20-point MNQ stop is
    12 micros, clipped to the 5 lots a Topstep 50K allows (micros count as full lots)."""
    from propdesk.risk.quant.sizing import kelly, position_size

    pack = load_pack("topstep-50k-combine").model_copy(update={"daily_loss": None, "version": "x"})
    desk = Desk(pack, Desk.open(pack, MON).start)
    desk.round_trip(MON, 1_200)
    status = desk.status(desk.at(TUE, "08:00"))
    assert status.floor(RuleCode.MAX_LOSS).floor == D(49_200)
    assert status.effective_capital == D(2_000)
    assert status.scaling is not None
    size = position_size(
        effective_capital=status.effective_capital,
        risk_fraction=D("0.25"),
        stop_distance=D(20),
        point_value=MNQ.multiplier,
        max_contracts=status.scaling.max_contracts_today,
    )
    assert (size.raw_contracts, size.contracts, size.clipped_by) == (12, 5, "max_contracts")
    full_kelly = kelly(D("0.5"), D("1.5")).f_star * status.effective_capital
    assert round(full_kelly, 2) == D("333.33")
