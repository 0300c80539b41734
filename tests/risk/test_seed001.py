"""Seed 001's examples (drawdown, rule and risk engines), on propdesk's packs and kernel."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from propdesk.risk.quant.requests import RuinRequest
from propdesk.risk.quant.sizing import RiskLevel, position_size
from propdesk.risk.rules.levels import BreachLevel, Severity
from propdesk.risk.rules.pack_enums import Comparison, ConsistencyDenominator, RuleOutcome
from propdesk.risk.rules.pack_sections import ConsecutiveLosses, ConsistencyRule
from propdesk.risk.rules.packs import load_pack
from propdesk.risk.rules.state import Outcome, RuleCode
from tests.risk.rules.desk import Desk

D = Decimal
MON, TUE, WED = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)


def test_ghost_drawdown_leaves_500_of_effective_capital_and_warns() -> None:
    """Trailing intraday, 50,000 start, 2,000 max drawdown, balance 49,500, HWM 51,000."""
    desk = Desk.open("mffu-rapid-50k", MON)
    desk.buy(desk.at(MON, "09:00"), 1, 5000).mark(desk.at(MON, "09:30"), 5020)  # equity 51,000
    desk.sell(desk.at(MON, "10:00"), 1, 4990)  # closed at −500
    status = desk.status()
    assert (status.balance, status.high_watermark) == (D(49_500), D(51_000))
    assert status.floor(RuleCode.MAX_LOSS).floor == D(49_000)
    assert status.effective_capital == D(500)
    assert status.binding_floor is RuleCode.MAX_LOSS
    assert status.breach_level is BreachLevel.WARNING


def mffu_two_days(pack_variant: str) -> Desk:
    pack = load_pack("mffu-core-50k")
    if pack_variant == "seed":
        # Seed 001's rule engine: "max day profit ≤ 50%" with the target as the yardstick, and a block.
        rule = ConsistencyRule(
            percent=D(50),
            comparison=Comparison.LE,
            denominator=ConsistencyDenominator.TARGET_OR_TOTAL,
            outcome=RuleOutcome.LOCK_DAY,
        )
        pack = pack.model_copy(update={"consistency": rule, "version": "seed-001"})
    desk = Desk(pack, Desk.open(pack, MON).start)
    desk.round_trip(MON, 1_200)
    return desk.round_trip(TUE, 1_800)


def test_mffu_consistency_1800_of_3000_official_pack_keeps_trading_and_raises_the_target() -> None:
    desk = mffu_two_days("official")
    status = desk.status()
    check = status.check(RuleCode.CONSISTENCY)
    assert check.severity is Severity.CRITICAL
    assert not check.blocks_trading
    assert status.can_trade
    assert status.outcome is Outcome.ACTIVE  # 3,000 reached the target, but not consistently
    assert status.consistency is not None
    assert status.consistency.profit_still_needed == D(600)
    assert status.target is not None
    assert status.target.effective_target == D(3_600)
    assert status.target.remaining == D(600)


def test_mffu_consistency_1800_of_3000_seed_variant_blocks_trading() -> None:
    desk = mffu_two_days("seed")
    status = desk.status()
    assert status.check(RuleCode.CONSISTENCY).severity is Severity.CRITICAL
    assert status.check(RuleCode.CONSISTENCY).blocks_trading
    assert status.check(RuleCode.DAY_LOCKED).severity is Severity.BLOCKING
    assert not status.can_trade
    assert status.day_locked_by == "consistency"


def test_consistency_1200_today_of_2500_total_warns_with_the_days_allowance() -> None:
    """Seed 001: today 1,200 of 2,500 total, approaching the 50% limit (1,250) → WARNING."""
    desk = Desk.open("mffu-core-50k", MON)
    desk.round_trip(MON, 700).round_trip(TUE, 600).round_trip(WED, 1_200)
    status = desk.status()
    check = status.check(RuleCode.CONSISTENCY)
    assert (check.severity, check.value, check.limit) == (Severity.WARNING, D(1_200), D(1_250))
    figures = status.consistency
    assert figures is not None
    assert figures.compliant
    assert figures.max_today_pnl == D(1_300)  # 1,300 / (1,300 + 1,300) is still 50%


def test_topstep_daily_loss_950_of_1000_warns() -> None:
    desk = Desk.open("topstep-50k-combine", MON)
    desk.buy(desk.at(MON, "09:00"), 1, 5000).mark(desk.at(MON, "09:30"), 4981)  # −950 open
    status = desk.status()
    check = status.check(RuleCode.DAILY_LOSS)
    assert (check.severity, check.value, check.limit) == (Severity.WARNING, D(950), D(1_000))
    assert status.can_trade
    desk.mark(desk.at(MON, "09:40"), 4980)  # −1,000: hit
    assert desk.status().check(RuleCode.DAY_LOCKED).severity is Severity.BLOCKING


def test_four_of_five_consecutive_losses_warns_and_the_fifth_locks_the_day() -> None:
    pack = load_pack("topstep-50k-combine").model_copy(
        update={
            "max_consecutive_losses": ConsecutiveLosses(max=5, outcome=RuleOutcome.LOCK_DAY),
            "daily_loss": None,
            "version": "streak",
        }
    )
    desk = Desk(pack, Desk.open(pack, MON).start)
    for minute in range(4):
        desk.round_trip(MON, -100, wall=f"09:{10 * minute:02d}", close=f"09:{10 * minute + 5:02d}")
    check = desk.status().check(RuleCode.MAX_CONSECUTIVE_LOSSES)
    assert (check.severity, check.value, check.limit) == (Severity.WARNING, 4, 5)
    desk.round_trip(MON, -100, wall="10:00", close="10:05")
    status = desk.status()
    assert status.check(RuleCode.MAX_CONSECUTIVE_LOSSES).severity is Severity.CRITICAL
    assert status.day_locked_by == "max_consecutive_losses"
    tomorrow = desk.status(desk.at(TUE, "08:00"))
    assert (tomorrow.consecutive_losses, tomorrow.day_locked) == (0, False)


def test_sizing_with_500_of_effective_capital() -> None:
    size = position_size(
        effective_capital=D(500),
        risk_fraction=D("0.01"),
        stop_distance=D("0.50"),
        point_value=D(10),
        win_rate=D("0.55"),
        payoff=D("2.0"),
    )
    assert size.contracts == 1
    assert size.risk_of_ruin is not None
    assert size.risk_of_ruin < 1e-9
    assert size.kelly is not None
    assert size.kelly.f_star == D("0.325")
    assert size.level is RiskLevel.SAFE
    assert not size.blocked


def test_no_edge_at_10_percent_risk_is_certain_ruin_and_blocked() -> None:
    size = position_size(
        effective_capital=D(500),
        risk_fraction=D("0.10"),
        stop_distance=D("0.50"),
        point_value=D(10),
        win_rate=D("0.40"),
        payoff=D("1.5"),
    )
    assert size.risk_of_ruin == 1.0
    assert size.level is RiskLevel.CRITICAL
    assert size.blocked
    assert size.contracts == 0
    ruin = RuinRequest(win_rate="0.40", payoff="1.5", risk_fraction="0.10").run()
    assert (ruin.vince, ruin.level, ruin.blocked) == (1.0, RiskLevel.CRITICAL, True)
